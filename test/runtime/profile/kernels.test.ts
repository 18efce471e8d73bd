// What a profile says about a kernel, on a graph small enough to count by
// hand: y = maximum(matmul(a, w) + b, 0) with a 3x4, w 4x5, b 5. Names say
// what ran (a product's M x K x N), bytes are the buffers read and written,
// and a value computed by several kernels counts its FLOPs once.

import test from "ava";
import { lowerCpu } from "../../../compiler/codegen/cpu.js";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import type { Graph } from "../../../compiler/ir/node.js";
import { make } from "../../../compiler/ops/make.js";
import { evalShape } from "../../../runtime/program/dim.js";
import { flops } from "../../../runtime/program/cost.js";
import { cpuKernel, gpuKernel, kernelFlops, runName } from "../../../runtime/profile/kernels.js";
import { input } from "../../helpers/gradcheck.js";

const a = input("a", [3, 4]);
const w = input("w", [4, 5]);
const b = input("b", [5]);
const product = make("matmul", [a, w], { transA: false, transB: false });
const biased = make("add", [product, make("broadcast", [b], { shape: [3, 5], dims: [1] })], {});
const y = make("maximum", [biased, make("const", [], { value: 0, shape: [3, 5], dtype: "f32" })], {});
const g: Graph = { name: "dense", inputs: [a, w, b] as never, outputs: [{ name: "y", node: y }] };
const f32 = 4;

test("CPU: the product is named M x K x N and moves its operands and result; the fused epilogue reads the product and the bias", (t) => {
  const program = lowerCpu(g);
  const shapes = program.graph.nodes.map((n) => evalShape(n.shape, {}));
  const steps = program.steps.filter((s) => s.kind !== "alias");
  const kernels = steps.map((s) => cpuKernel(program, shapes, [s]));
  t.deepEqual(
    kernels.map((k) => [k.name, k.bytes]),
    [
      ["matmul 3x4x5", f32 * (3 * 4 + 4 * 5 + 3 * 5)],
      ["fused[add,maximum] 3x5", f32 * (3 * 5 + 5 + 3 * 5)],
    ],
  );
  t.deepEqual(kernels[0]!.ops, ["matmul"]);
  t.deepEqual(
    kernelFlops(program.graph, {}, kernels),
    [2 * 3 * 4 * 5, 3 * 5 + 3 * 5],
  );
  // A row chain of both steps is named after its parts, at the first one's shape.
  t.is(runName(program.graph, shapes, steps), "rows[matmul fused[add,maximum]] 3x5");
});

test("WebGPU: a kernel computes what it writes and every value without a buffer it needs; bytes are its bindings'", (t) => {
  const program = lowerGpu(g);
  const shapes = program.graph.nodes.map((n) => evalShape(n.shape, {}));
  const kernels = program.kernels.map((_, k) => gpuKernel(program, k, shapes, {}));
  t.is(kernels.length, 1);
  t.is(kernels[0]!.name, "matmul+add+maximum 3x4x5");
  t.deepEqual(kernels[0]!.ops, ["matmul", "add", "maximum"]);
  t.is(kernels[0]!.bytes, f32 * (3 * 4 + 4 * 5 + 5 + 3 * 5));
  t.deepEqual(kernelFlops(program.graph, {}, kernels), [flops(program.graph, {})]);
});

test("a value that two kernels compute counts its FLOPs in the first", (t) => {
  const program = lowerCpu(g);
  const nodes = program.graph.nodes;
  const at = (op: string) => nodes.findIndex((n) => n.op === op);
  const kernel = (ns: number[]) => ({ name: "k", ops: [], nodes: ns, bytes: 0 });
  // The add recomputed in both kernels: 15 FLOPs, once.
  t.deepEqual(kernelFlops(program.graph, {}, [kernel([at("matmul"), at("add")]), kernel([at("add"), at("maximum")])]), [120 + 15, 15]);
});
