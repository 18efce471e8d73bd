#!/usr/bin/env node
// The dlc command. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write("dlc: dist/ is missing; run `npm install` (or `npm run build`) in the dlc folder first\n");
  process.exit(1);
}
await import(main.href);
