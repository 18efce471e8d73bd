// Every elementwise op of the table on WebGPU against the CPU interpreter, on
// random inputs in its domain, in an unfused kernel of its own and fused into
// a chain; and the ops with numerically careful forms (erf, softplus, log1p,
// expm1, tanh) at the edges, elementwise against float64 to a relative 1e-5,
// where a naive form (exp(x) - 1 near 0, log(1 + e^x) at large x) would be
// off by orders of magnitude. Runs on the software Vulkan adapter in CI.

import test from "ava";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { unary } from "../../../compiler/ops/build.js";
import { make } from "../../../compiler/ops/make.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { ELEMENTWISE, ELEMENTWISE_OPS, scalarFunction, type ElementwiseOp, type UnaryOp } from "../../../runtime/program/elementwise.js";
import { Random } from "../../../runtime/random.js";
import { GpuExecutable } from "../../../runtime/webgpu/executable.js";
import { closeGpu, gpu, matchesCpu } from "../../helpers/gpu.js";
import { input, sample, type Domain } from "../../helpers/gradcheck.js";

test.after.always(closeGpu);

/** Where each op is defined and smooth enough to compare: the test's knowledge, not the table's. */
const DOMAIN: Partial<Record<ElementwiseOp, Domain>> = {
  log: { lo: 0.1, hi: 4 },
  sqrt: { lo: 0.1, hi: 4 },
  log1p: { lo: -0.9, hi: 4 },
  pow: { lo: 0.1, hi: 3 },
};

function operands(op: ElementwiseOp, shape: number[]): Node[] {
  const def = ELEMENTWISE[op];
  return Array.from({ length: def.arity }, (_, k) => input(`x${k}`, shape, def.operands === "select" && k === 0 ? "i32" : "f32"));
}

function feeds(rng: Random, xs: Node[], domain: Domain): Map<string, NDArray> {
  return new Map<string, NDArray>(
    xs.map((x): [string, NDArray] => {
      const shape = x.shape as number[];
      const name = x.op === "input" ? x.attrs.name : "";
      if (x.dtype === "i32") return [name, { shape, data: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(2)) }];
      return [name, { shape, data: Float32Array.from(sample(rng, shape, domain)) }];
    }),
  );
}

const graph = (name: string, inputs: Node[], outputs: Record<string, Node>): Graph => ({
  name,
  inputs: inputs.filter((x): x is Extract<Node, { op: "input" }> => x.op === "input"),
  outputs: Object.entries(outputs).map(([n, node]) => ({ name: n, node })),
});

for (const op of ELEMENTWISE_OPS) {
  for (const fusion of [false, true]) {
    test.serial(`${op} on WebGPU matches the CPU (${fusion ? "fused after a scale" : "its own kernel"})`, async (t) => {
      const shape = [7, 37];
      const xs = operands(op, shape);
      const attrs = op === "cast" ? { to: "i32" as const } : {};
      // Fused: the op reads 2 * x0 (or x0 itself for integer operands) computed in the same kernel.
      const first = fusion && xs[0]!.dtype === "f32" ? make("mul", [xs[0]!, make("const", [], { value: 0.5, shape, dtype: "f32" })], {}) : xs[0]!;
      const y = make(op, [first, ...xs.slice(1)], attrs as never) as Node;
      const domain = DOMAIN[op] ?? { lo: -3, hi: 3 };
      const d = fusion && xs[0]!.dtype === "f32" ? { lo: domain.lo * 2, hi: domain.hi * 2 } : domain;
      await matchesCpu(t, graph(op, xs, { y }), feeds(new Random(op.length, 3), xs, d), new Map(), { fusion });
    });
  }
}

test.serial("cast from i32 to f32 on WebGPU matches the CPU", async (t) => {
  const x = input("x", [50], "i32");
  const y = make("cast", [x], { to: "f32" });
  await matchesCpu(t, graph("cast", [x], { y }), new Map([["x", { shape: [50], data: Int32Array.from({ length: 50 }, (_, i) => i * 37 - 900) }]]));
});

const EDGES: Partial<Record<UnaryOp, number[]>> = {
  erf: [0, 1e-6, -3e-4, 0.1, 0.49, 0.51, -1, 2, -3.5, 5, -9],
  softplus: [0, 1e-6, -1e-6, 5, -5, 20, -20, 60, -60, 88, -100],
  log1p: [0, 1e-7, -1e-7, 3e-5, -3e-5, 1e-3, 0.5, -0.5, 10, 1e6],
  expm1: [0, 1e-7, -1e-7, 3e-5, -3e-5, 1e-3, 0.5, -0.5, 5, -5, -30, 30],
  tanh: [0, 1e-6, -1e-6, 0.5, -3, 9, 20, -20, 1e4, -1e4],
};

for (const [op, values] of Object.entries(EDGES) as [UnaryOp, number[]][]) {
  test.serial(`${op} on WebGPU at its edges is within a relative 1e-5 of float64`, async (t) => {
    const x = input("x", [values.length]);
    const exe = await GpuExecutable.create(await gpu(t), lowerGpu(graph(op, [x], { y: unary(op, x) })));
    const xs = Float32Array.from(values);
    const got = (await exe.run(new Map([["x", { shape: [values.length], data: xs }]]), new Map())).get("y")!.data;
    const f = scalarFunction(op, "f32");
    xs.forEach((v, i) => {
      const want = f(v);
      const err = Math.abs(got[i]! - want);
      t.true(err <= 1e-5 * Math.abs(want) + 1e-30, `${op}(${v}) = ${got[i]} on WebGPU, ${want} in float64`);
    });
  });
}
