// `import ... from "dlc/compiler"` as a user writes it: the package's own
// export, resolved through package.json to the build (dist/compiler/index.js,
// which `npm test` builds first), compiles a model, and the runtime reads the
// artifact it writes.

import test from "ava";
import { spawnSync } from "node:child_process";
import { ROOT } from "../helpers/paths.js";

const SCRIPT = `
import { Compilation, CompileError, buildModel, printProgram, writeArtifact } from "dlc/compiler";
import { parseArtifact } from "dlc/runtime";
const c = new Compilation("models/iris.ts");
const program = c.source();
const read = parseArtifact(c.artifact({ training: true, webgpu: true }), "iris.dlc");
let code = null;
try {
  new Compilation("test/corpus/bad/matmul-mismatch.ts").source();
} catch (e) {
  code = e instanceof CompileError ? e.diagnostic.code : String(e);
}
console.log(JSON.stringify({
  resolved: import.meta.resolve("dlc/compiler"),
  entries: program.entries.map((g) => g.name),
  params: program.params.map((p) => p.name),
  ir: printProgram(program).split("\\n")[0],
  artifact: { entries: read.model.entries.map((e) => e.name), step: read.model.train.params, fusion: read.fusion, kernels: read.model.train.step.gpu.kernels.length },
  built: buildModel("models/iris.ts").entries.length,
  writes: typeof writeArtifact,
  code,
}));
`;

test("dlc/compiler resolves to the build and compiles models/iris.ts to an artifact the runtime reads", (t) => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", SCRIPT], { cwd: ROOT, encoding: "utf8" });
  t.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  t.regex(got.resolved, /\/dist\/compiler\/index\.js$/);
  t.deepEqual(got.entries, ["logits", "predict", "loss"]);
  t.deepEqual(got.params, ["w", "b"]);
  t.is(got.ir, "; dlc IR of iris.ts");
  t.deepEqual(got.artifact.entries, ["logits", "predict", "loss"]);
  t.deepEqual(got.artifact.step, ["w", "b"]);
  t.true(got.artifact.fusion);
  t.true(got.artifact.kernels > 0);
  t.is(got.built, 3);
  t.is(got.writes, "function");
  t.is(got.code, "DLC2001");
});
