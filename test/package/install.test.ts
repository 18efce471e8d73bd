// dlc as a user gets it: `npm pack` (of the build that `npm test` has just
// made), the tarball installed into an empty project (its dependencies from
// npm's cache, which `npm ci` filled; the registry otherwise), and there: a
// model importing "dlc" type-checks under `tsc --strict` (and one with a
// type error does not), `npx dlc compile` and `npx dlc train` work, `dlc
// serve` serves its page (uPlot from the installed uplot), `dlc/browser`
// resolves, and the README's programmatic example runs as written from plain
// Node ESM.

import test from "ava";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/paths.js";

// An enclosing `npm test` describes its own project to its scripts (npm_config_local_prefix, npm_package_*):
// none of that reaches the user's project, but where npm keeps its cache and reaches the registry does.
const KEPT = /^npm_config_(cache|userconfig|globalconfig|cafile|registry|proxy|https_proxy|noproxy|strict_ssl)$/i;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_") || KEPT.test(k)));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 300_000 });
}

const said = (r: SpawnSyncReturns<string>) => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

/** The README's example: the code block that starts `// quickstart.mjs`. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = /```js\n(\/\/ quickstart\.mjs[^\n]*\n[\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no ```js block starting `// quickstart.mjs`");
  return m[1]!;
}

const MODEL_WITH_A_TYPE_ERROR = `import { type Tensor, param, matmul } from "dlc";
export function f(x: Tensor<["batch", 4]>): Tensor<["batch", 3]> {
  return matmul(x, param("w", [4, 3], "zeroes"));
}
`;

/** `dlc serve ARGS --port 0 --json` in `project`: the status of GET for each of `paths`, then its exit code after SIGINT. */
async function served(project: string, args: readonly string[], paths: readonly string[]): Promise<{ statuses: number[]; exit: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(project, "node_modules/dlc/bin/dlc.js"), "serve", ...args, "--port", "0", "--json"], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = await Promise.race([
    new Promise<string>((resolve) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()).includes("\n") && resolve((JSON.parse(out) as { url: string }).url));
    }),
    exited.then(() => ""),
  ]);
  const statuses = url === "" ? [] : await Promise.all(paths.map(async (p) => (await fetch(new URL(p, url))).status));
  child.kill("SIGINT");
  return { statuses, exit: await exited, stderr };
}

test("npm pack gives a tarball that installs into an empty project, where models type-check, the CLI and the README's example run", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-package-"));
  // dist/ is built by `npm test` before ava runs; --ignore-scripts packs it as it is.
  const pack = run(NPM, ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT);
  t.is(pack.status, 0, said(pack));
  const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  const files = packed!.files.map((f) => f.path);
  for (const f of ["package.json", "README.md", "bin/dlc.js", "lang/dlc.d.ts", "lang/dlc.js", "dist/cli/main.js", "dist/compiler/index.js", "dist/compiler/index.d.ts", "dist/runtime/index.js", "dist/runtime/index.d.ts", "dist/runtime/browser.d.ts", "dist/browser/runtime.js", "dist/browser/serve/app.js", "dist/browser/serve/trainer.js", "dist/browser/serve/index.html"]) t.true(files.includes(f), f);
  t.deepEqual(files.filter((f) => /^(test|bench|models|data|scripts|node_modules|compiler|runtime|cli)\//.test(f)), [], "no sources, tests, benchmarks or data");
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  t.is(manifest.private, undefined);
  t.deepEqual(Object.keys(manifest.dependencies).sort(), ["cli-progress", "commander", "csv-parse", "protobufjs", "ts-morph", "uplot"]);
  t.deepEqual(manifest.peerDependenciesMeta, { webgpu: { optional: true } });

  const project = join(dir, "project");
  mkdirSync(join(project, "models"), { recursive: true });
  mkdirSync(join(project, "data"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user", private: true, type: "module" }));
  const install = run(NPM, ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dir, packed!.filename)], project);
  t.is(install.status, 0, said(install));
  const installed = JSON.parse(readFileSync(join(project, "node_modules/dlc/package.json"), "utf8"));
  t.is(installed.version, manifest.version);
  for (const dev of ["ava", "tsx", "@tensorflow/tfjs", "@jax-js/jax", "webgpu", "onnxruntime-node"]) t.throws(() => readFileSync(join(project, "node_modules", dev, "package.json")), undefined, `${dev} is not installed`);

  // The user's model, type-checked by the user's TypeScript under --strict.
  copyFileSync(join(ROOT, "models/iris.ts"), join(project, "models/iris.ts"));
  copyFileSync(join(ROOT, "data/iris.csv"), join(project, "data/iris.csv"));
  writeFileSync(join(project, "models/typo.ts"), MODEL_WITH_A_TYPE_ERROR);
  const tsconfig = (file: string) => JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", types: [] }, files: [file] });
  writeFileSync(join(project, "tsconfig.json"), tsconfig("models/iris.ts"));
  writeFileSync(join(project, "tsconfig.typo.json"), tsconfig("models/typo.ts"));
  const tsc = join(ROOT, "node_modules/.bin/tsc");
  const good = run(tsc, ["-p", "tsconfig.json"], project);
  t.is(good.status, 0, said(good));
  const typo = run(tsc, ["-p", "tsconfig.typo.json"], project);
  t.not(typo.status, 0);
  t.regex(typo.stdout, /models\/typo\.ts\(3,39\): error TS2345: Argument of type '"zeroes"'/);

  // The command, from the project's node_modules/.bin.
  const compiled = run(NPM, ["exec", "--no", "--", "dlc", "compile", "models/iris.ts", "-o", "iris.dlc", "--grad", "loss", "--json"], project);
  t.is(compiled.status, 0, said(compiled));
  t.deepEqual(JSON.parse(compiled.stdout).entries, ["logits", "predict", "loss", "loss.grad"]);
  const trained = run(NPM, ["exec", "--no", "--", "dlc", "train", "iris.dlc", "--data", "data/iris.csv", "--split", "0.2", "--epochs", "5", "--save", "iris.safetensors", "--json"], project);
  t.is(trained.status, 0, said(trained));
  const summary = JSON.parse(trained.stdout.trim().split("\n").at(-1)!);
  t.like(summary, { backend: "cpu", backend_reason: "the webgpu package is not installed", epochs: 5, task: "classification" });
  // ONNX export, from the command and from dlc/export.
  const exported = run(NPM, ["exec", "--no", "--", "dlc", "export", "iris.dlc", "--weights", "iris.safetensors", "-o", "iris.onnx", "--json"], project);
  t.is(exported.status, 0, said(exported));
  t.like(JSON.parse(exported.stdout), { entry: "predict", opset: 17 });
  writeFileSync(join(project, "export.mjs"), 'import { readFileSync } from "node:fs";\nimport { decodeModel } from "dlc/export";\nconsole.log(decodeModel(readFileSync("iris.onnx")).graph.output[0].name);\n');
  const decoded = run(process.execPath, ["export.mjs"], project);
  t.is(decoded.status, 0, said(decoded));
  t.is(decoded.stdout, "predict\n");
  const gpu = run(NPM, ["exec", "--no", "--", "dlc", "train", "iris.dlc", "--data", "data/iris.csv", "--backend", "webgpu"], project);
  t.is(gpu.status, 1);
  t.regex(gpu.stderr, /the WebGPU backend needs the 'webgpu' package \(Dawn for Node\), which is not installed: npm install webgpu/);

  // dlc serve from the installed package: its page, and uPlot from the installed uplot.
  const serving = await served(project, ["iris.dlc", "--data", "data/iris.csv"], ["/", "/app.js", "/trainer.js", "/vendor/uPlot.iife.min.js", "/vendor/uPlot.min.css", "/model.dlc"]);
  t.deepEqual(serving, { statuses: [200, 200, 200, 200, 200, 200], exit: 0, stderr: "" });
  // dlc/browser resolves to the browser bundle, which parses an artifact from bytes (in Node too).
  writeFileSync(join(project, "browser.mjs"), 'import { readFileSync } from "node:fs";\nimport { parseArtifact } from "dlc/browser";\nconsole.log(parseArtifact(readFileSync("iris.dlc"), "iris.dlc").model.entries.map((e) => e.name).join(","));\n');
  const browser = run(process.execPath, ["browser.mjs"], project);
  t.is(browser.status, 0, said(browser));
  t.is(browser.stdout, "logits,predict,loss,loss.grad\n");

  // The README's example, as written, from plain Node ESM.
  writeFileSync(join(project, "quickstart.mjs"), readmeExample());
  const example = run(process.execPath, ["quickstart.mjs"], project);
  t.is(example.status, 0, said(example));
  t.regex(example.stdout, /^\[ 'logits', 'predict', 'loss' \] \[ 'w \[4,3\]', 'b \[3\]' \]\n/);
  t.regex(example.stdout, /test accuracy 0\.9\d\d/);
  t.regex(example.stdout, /^0\.9\d*\n/m, "the artifact and checkpoint, served by the runtime alone, evaluate as trained");
  t.regex(example.stdout, /bad\.ts:3:10 - error DLC2001: matmul: inner dimensions differ: \[2, 3\] @ \[4, 1\]\n3 \| {3}return matmul/);
});
