// Deep graphs: an expression of 20,000 terms built by a loop goes through
// every stage (printing, fusion, the WGSL emitter, the CPU program, the
// artifact) without running out of stack, and computes what it should.

import test from "ava";
import { printModel } from "../../cli/compile.js";
import { parseArtifact } from "../../runtime/artifact/read.js";
import { CpuExecutable } from "../../runtime/cpu/executable.js";
import { sourceCompilation } from "../helpers/compile.js";

const TERMS = 20_000;
const MODEL = `import { type Tensor } from "dlc";
export function predict(x: Tensor<["batch", 3]>): Tensor<["batch", 3]> {
  let y = x;
  for (let i = 0; i < ${TERMS}; i++) y = y + x * (i % 7);
  return y;
}
`;

test(`a ${TERMS}-term chain compiles to an artifact whose predict computes the sum on the CPU`, (t) => {
  const c = sourceCompilation(MODEL);
  const bytes = c.artifact({ webgpu: true });
  const model = parseArtifact(bytes, "deep.dlc").model;
  const predict = model.entries.find((e) => e.name === "predict")!;
  t.truthy(predict.gpu, "WGSL kernels were generated");

  // y = x * (1 + sum of i % 7): 20,000 = 7 * 2857 + 1, so the sum is 2857 * 21 = 59,997. Integers below 2^24 add exactly in f32.
  t.is(1 + 2857 * 21, 59_998);
  const x = [1, -2, 3, 0.5, 4, -1];
  const out = new CpuExecutable(predict.cpu).run(new Map([["x", { shape: [2, 3], data: Float32Array.from(x) }]]), new Map());
  const y = out.values().next().value!;
  t.deepEqual(y.shape, [2, 3]);
  t.deepEqual([...y.data], x.map((v) => v * 59_998));

  // The dumps of the same stages print.
  let wgsl = "";
  printModel(c, "wgsl", (s) => (wgsl += s));
  t.regex(wgsl, /fn main/);
  let ir = "";
  printModel(c, "ir", (s) => (ir += s));
  t.true(ir.split("\n").length > 2 * TERMS);
});
