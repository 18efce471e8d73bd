// The runtime never imports the compiler or ts-morph: statically (the import
// graph of runtime/ from its entry), and at run time (a process that loads a
// compiled artifact, trains, evaluates and predicts records every module it
// resolves, through the library and through the CLI).

import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { dlc } from "../helpers/cli.js";
import { ROOT } from "../helpers/paths.js";

/** Every file reachable from `entry` through relative imports (static, re-exports and dynamic), and the bare specifiers. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, "");
    // Static imports and re-exports begin a line (so a template string such as `(import "${m.module}" ...` in the wasm assembler's text is none).
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith(".")) stack.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

test("the runtime's import graph reaches neither compiler/ nor ts-morph", (t) => {
  const { files, packages } = importGraph(join(ROOT, "runtime/index.ts"));
  t.true(files.size > 20, `${files.size} files`);
  const compiler = [...files].filter((f) => f.includes("/compiler/"));
  t.deepEqual(compiler, []);
  for (const p of packages) t.true(p.startsWith("node:") || ["webgpu", "csv-parse", "csv-parse/sync"].includes(p), `runtime imports '${p}'`);
});

function loadedModules(args: string[], cwd: string): { status: number | null; modules: string[]; stderr: string } {
  const log = join(cwd, "modules.log");
  writeFileSync(log, "");
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(join(ROOT, "test/helpers/hooks/register.mjs")).href, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, DLC_MODULE_LOG: log },
  });
  return { status: r.status, modules: readFileSync(log, "utf8").trim().split("\n"), stderr: r.stderr };
}

test("training, evaluating and predicting from an artifact with the library loads no compiler module", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-runtime-"));
  t.is(dlc(["compile", "models/iris.ts", "-o", join(dir, "iris.dlc"), "--quiet"]).status, 0);
  writeFileSync(
    join(dir, "use.mjs"),
    `import { loadArtifact, createBackend, startSession, loadFor, entryOf, trainEpochs, evaluate, predict, allRows } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist/runtime/index.js")).href)};
const model = loadArtifact("iris.dlc");
const backend = await createBackend(model, "cpu");
const session = await startSession(model, backend, model.train.config);
const data = await loadFor(entryOf(model, "loss"), ${JSON.stringify(join(ROOT, "data/iris.csv"))});
const split = { ds: data, rows: allRows(data) };
await trainEpochs(session, split, undefined, { epochs: 30, batch: 16, dropLast: false, lr: 0.1 });
const m = await evaluate(session, data, split.rows, 64);
const p = await predict(session, data);
console.log(JSON.stringify({ accuracy: m.accuracy, predictions: p.values.length }));
backend.dispose();
process.exit(0);
`,
  );
  const r = loadedModules([join(dir, "use.mjs")], dir);
  t.is(r.status, 0, r.stderr);
  t.true(r.modules.some((m) => m.includes("/dist/runtime/")));
  t.deepEqual(r.modules.filter((m) => m.includes("/compiler/") || m.includes("ts-morph") || m.includes("/typescript/")), []);
});

test("the programmatic API on an artifact (bind, fit, predict, valueAndGrad) loads no compiler module", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-runtime-"));
  t.is(dlc(["compile", "models/iris.ts", "-o", join(dir, "iris.dlc"), "--grad", "loss", "--quiet"]).status, 0);
  writeFileSync(
    join(dir, "api.mjs"),
    `import { Model } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist/runtime/index.js")).href)};
const model = await Model.load("iris.dlc").on("cpu");
const fit = await model.fit(${JSON.stringify(join(ROOT, "data/iris.csv"))}, { epochs: 20, split: 0.2, normalize: "standard" });
const predictions = await model.predict(${JSON.stringify(join(ROOT, "data/iris.csv"))});
const { value, grads } = await model.valueAndGrad("loss")(new Float32Array([0.1, 0.2, 0.3, 0.4]), new Int32Array([1]));
console.log(JSON.stringify({ accuracy: fit.test.accuracy, predictions: predictions.shape, value, grads: Object.keys(grads.params) }));
model.dispose();
process.exit(0);
`,
  );
  const r = loadedModules([join(dir, "api.mjs")], dir);
  t.is(r.status, 0, r.stderr);
  t.true(r.modules.some((m) => m.includes("/dist/runtime/api/")));
  t.deepEqual(r.modules.filter((m) => m.includes("/compiler/") || m.includes("ts-morph") || m.includes("/typescript/")), []);
});

test("dlc train and dlc predict on an artifact load no compiler module", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-runtime-"));
  t.is(dlc(["compile", "models/iris.ts", "-o", join(dir, "iris.dlc"), "--quiet"]).status, 0);
  const bin = join(ROOT, "bin/dlc.js");
  const train = loadedModules([bin, "train", "iris.dlc", "--data", join(ROOT, "data/iris.csv"), "--epochs", "2", "--backend", "cpu", "--save", "w.safetensors", "--quiet"], dir);
  t.is(train.status, 0, train.stderr);
  const predict = loadedModules([bin, "predict", "iris.dlc", "--weights", "w.safetensors", "--data", join(ROOT, "data/iris.csv"), "--out", "p.csv", "--backend", "cpu", "--quiet"], dir);
  t.is(predict.status, 0, predict.stderr);
  for (const r of [train, predict]) t.deepEqual(r.modules.filter((m) => m.includes("/compiler/") || m.includes("ts-morph") || m.includes("/typescript/")), []);
});

test("ONNX export (dlc/export) reaches neither compiler/ nor ts-morph, and only it loads protobufjs", (t) => {
  const { files, packages } = importGraph(join(ROOT, "runtime/export/onnx/index.ts"));
  t.deepEqual([...files].filter((f) => f.includes("/compiler/")), []);
  for (const p of packages) t.true(p.startsWith("node:") || p.startsWith("protobufjs/"), `the exporter imports '${p}'`);
  t.false([...importGraph(join(ROOT, "runtime/index.ts")).packages].some((p) => p.startsWith("protobufjs")), "the runtime's entry does not load protobufjs");
});
