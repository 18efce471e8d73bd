// What fusion makes of slices, pads and concatenations: views read where they
// are consumed, never copied into a buffer of their own.

import test from "ava";
import { lowerCpu } from "../../../compiler/codegen/cpu.js";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import { partition } from "../../../compiler/fusion/kernels.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { sourceCompilation } from "../../helpers/compile.js";

const graph = (inputs: Node[], outputs: Record<string, Node>): Graph => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });

/** An input whose shape may hold a symbolic size. */
const input = (name: string, shape: readonly (number | string)[], dtype: "f32" | "i32" = "f32"): Node => make("input", [], { name, shape, dtype });

test("concat([a, b], 1) * 2 is one pointwise kernel with no buffer for the concatenation", (t) => {
  const a = input("a", ["batch", 3]);
  const b = input("b", ["batch", 5]);
  const g = graph([a, b], { y: ops.binaryOp("mul", ops.concat([a, b], 1), 2) });
  const p = partition(g);
  t.deepEqual(p.kernels.map((k) => k.kind), ["pointwise"]);
  t.deepEqual([...p.materialized].map((n) => n.op).sort(), ["input", "input", "mul"]);
  const [kernel] = lowerGpu(g).kernels;
  t.true(kernel!.wgsl.includes("select("), "each pad is a select between its fill and a read");
  // The CPU program: one fused loop.
  const cpu = lowerCpu(g);
  t.deepEqual(cpu.steps.map((s) => s.kind), ["fused"]);
});

test("a slice of a matmul's output reads the matmul's buffer; a concat feeding a matmul is its own pointwise kernel", (t) => {
  const x = input("x", [6, 5]);
  const y = input("y", [6, 3]);
  const w = input("w", [8, 4]);
  const h = ops.matmul(ops.concat([x, y], -1), w);
  const p = partition(graph([x, y, w], { s: ops.unaryOp("tanh", ops.slice(h, [1, 0], [2, 4])) }));
  t.deepEqual(p.kernels.map((k) => k.kind), ["pointwise", "contraction", "pointwise"]);
  t.regex([...p.reasons.values()].join("; "), /operand of matmul/);
  t.regex([...p.reasons.values()].join("; "), /the epilogue has another size than the contraction/);
});

test("a model's concat * 2 compiles to one WebGPU kernel (as dlc inspect counts them)", (t) => {
  const c = sourceCompilation(`
import { type Tensor, concat } from "dlc";
export function f(a: Tensor<["batch", 3]>, b: Tensor<["batch", 5]>) {
  return concat([a, b], 1) * 2;
}
`);
  const kernels = c.wgsl(c.simplified("f")).kernels;
  t.is(kernels.length, 1);
  t.deepEqual([...new Set(kernels[0]!.ops)].sort(), ["add", "const", "mul", "pad"]);
});
