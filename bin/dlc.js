#!/usr/bin/env node
// The dlc command. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dist = (file) => new URL(`../dist/cli/${file}`, import.meta.url);
if (!existsSync(fileURLToPath(dist("main.js")))) {
  process.stderr.write("dlc: dist/ is missing; run `npm install` (or `npm run build`) in the dlc folder first\n");
  process.exit(1);
}
// A command that may open a WebGPU adapter runs in a child whose stderr is filtered (cli/supervise.ts).
const { needsChild, runSupervised, childStderr } = await import(dist("supervise.js").href);
const argv = process.argv.slice(2);
if (needsChild(argv)) process.exit(await runSupervised(fileURLToPath(import.meta.url), argv));
childStderr();
await import(dist("main.js").href);
