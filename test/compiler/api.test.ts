// `compile`, the compiler as one function: from a path, a file URL or source
// text, to a model with its entries, parameters, artifact and stages; a model
// with an error throws a CompileError whose message is what the CLI prints.

import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile, CompiledModel } from "../../compiler/api.js";
import { CompileError } from "../../compiler/frontend/diagnostics.js";
import { Model } from "../../runtime/api/model.js";
import { dlc } from "../helpers/cli.js";
import { ROOT } from "../helpers/paths.js";

const IRIS = join(ROOT, "models/iris.ts");

test("compile gives the entries, parameters, artifact and stages of a model file", (t) => {
  const stages: string[] = [];
  const m = compile(IRIS, { onStage: (s, key) => stages.push(`${s} ${key}`.trim()) });
  t.true(m instanceof CompiledModel && m instanceof Model);
  t.deepEqual(m.entries.map((e) => [e.name, e.inputs.map((i) => i.name), e.outputs.map((o) => o.dtype)]), [
    ["logits", ["x"], ["f32"]],
    ["predict", ["x"], ["i32"]],
    ["loss", ["x", "species"], ["f32"]],
  ]);
  t.deepEqual(m.params.map((p) => [p.name, p.shape]), [["w", [4, 3]], ["b", [3]]]);
  t.is(m.trainConfig?.batch, 16);
  t.true(m.program.entries.every((e) => e.gpu !== undefined), "WebGPU programs by default");
  // The artifact is `dlc compile -o`'s, byte for byte.
  const dir = mkdtempSync(join(tmpdir(), "dlc-api-"));
  t.is(dlc(["compile", IRIS, "-o", join(dir, "cli.dlc"), "--quiet"]).status, 0);
  t.deepEqual(Buffer.from(m.artifact), readFileSync(join(dir, "cli.dlc")));
  m.save(join(dir, "api.dlc"));
  t.deepEqual(readFileSync(join(dir, "api.dlc")), readFileSync(join(dir, "cli.dlc")));
  // Stages are the Compilation's, computed once.
  t.is(m.compilation.training().graph.name, "train");
  t.is(m.compilation.step().params.join(), "w,b");
  t.true(stages.includes("source") && stages.includes("step"));
  const before = stages.length;
  m.compilation.source();
  void m.artifact;
  t.is(stages.length, before);
});

test("compile takes a file URL and source text; options select what is built", (t) => {
  t.deepEqual(compile(pathToFileURL(IRIS)).program, compile(IRIS).program);
  const source = readFileSync(IRIS, "utf8");
  const fromText = compile({ source, name: "iris.ts" }, { webgpu: false, training: false });
  t.deepEqual(fromText.entries.map((e) => e.name), ["logits", "predict", "loss"]);
  t.is(fromText.program.train, undefined);
  t.true(fromText.program.entries.every((e) => e.gpu === undefined));
  t.is(fromText.program.hash, compile(IRIS).program.hash, "the same source is the same model");
  const adam = compile(IRIS, { trainConfig: { optimizer: { kind: "adam", lr: 0.01, schedule: { kind: "constant" } }, batch: 8, epochs: 3, seed: 4 } });
  t.is(adam.trainConfig?.optimizer.kind, "adam");
  t.deepEqual(adam.program.train?.state.map((s) => s.name).sort(), ["opt/m/b", "opt/m/w", "opt/v/b", "opt/v/w"]);
});

test("a compile error's message is the diagnostic dlc compile prints", (t) => {
  const bad = "test/corpus/bad/matmul-mismatch.ts";
  const cli = dlc(["compile", bad]);
  t.is(cli.status, 2);
  const e = t.throws(() => compile(join(ROOT, bad)), { instanceOf: CompileError }) as CompileError;
  t.is(e.name, "CompileError");
  t.is(e.diagnostic.code, "DLC2001");
  t.is(e.message + "\n", cli.stderr);
  t.regex(e.message, /^test\/corpus\/bad\/matmul-mismatch\.ts:\d+:\d+ - error DLC2001: .*\n\d+ \| .*\n +\| +\^+\nhint: /);
});

test("source text's diagnostics name it and show its line; a missing file is one line", (t) => {
  const source = `import { type Tensor, param, matmul } from "dlc";\nexport function f(x: Tensor<["b", 3]>): Tensor<["b", 2]> {\n  return matmul(x, param("w", [4, 2], "he"));\n}\n`;
  const e = t.throws(() => compile({ source, name: "mine.ts" }), { instanceOf: CompileError }) as CompileError;
  t.is(e.diagnostic.span?.file, "mine.ts");
  t.is(
    e.message,
    [
      "mine.ts:3:10 - error DLC2001: matmul: inner dimensions differ: [b, 3] @ [4, 2]",
      '3 |   return matmul(x, param("w", [4, 2], "he"));',
      "  |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
      "hint: the left operand's columns (3) must equal the right operand's rows (4)",
    ].join("\n"),
  );
  t.throws(() => compile(join(ROOT, "models/nope.ts")), { message: /^compile: cannot read '.*models\/nope\.ts': no such file$/ });
});
