// The float32 executable's products on the WebAssembly SIMD GEMM against the
// float64 reference evaluator (the JavaScript GEMM in Float64Array): matmul in
// every layout, batched and broadcast over a batch, at awkward sizes (1, 3,
// 17, 31, 65, 129, primes, a depth of 1, 512), and the three convolutions at
// odd sizes, strides, paddings, dilations and groups. Each output element must be within
// 1e-5 · Σ|terms| of the reference, the scale of float32 rounding in a sum
// (the magnitude is the same product of the operands' absolute values, also
// evaluated in float64). Outputs start as NaN in a heap that earlier products
// filled, so an element the wasm path forgets to write fails.
//
// Also: the f32 executable really runs the wasm path (its `products.kind` and
// the engine's call counter), the float64 one never does, a forced JavaScript
// GEMM and a host without SIMD fall back with a reason and the same results,
// and the heap is reserved once per plan.

import test, { type ExecutionContext } from "ava";
import { lowerCpu } from "../../../../compiler/codegen/cpu.js";
import { evaluate } from "../../../../compiler/ir/evaluate.js";
import type { Graph } from "../../../../compiler/ir/node.js";
import { matmul as composedMatmul } from "../../../../compiler/ops/composite.js";
import { make } from "../../../../compiler/ops/make.js";
import { CpuExecutable } from "../../../../runtime/cpu/executable.js";
import type { NDArray } from "../../../../runtime/cpu/ndarray.js";
import { createProducts, type Products } from "../../../../runtime/cpu/wasm/engine.js";
import type { Pads, Pair } from "../../../../runtime/program/ops.js";
import { Random } from "../../../../runtime/random.js";
import { input } from "../../../helpers/gradcheck.js";
import { graph, randomFeeds } from "../../../helpers/feeds.js";
import { convAttrs, kernelShape, outputShape, type ConvCase } from "../../../helpers/products.js";

const TOL = 1e-5;

/** One engine for the whole file: every product shares (and so dirties) its heap. */
const shared = createProducts();



function absolute(feeds: ReadonlyMap<string, NDArray>): Map<string, NDArray> {
  return new Map([...feeds].map(([k, v]) => [k, { shape: v.shape, data: Float64Array.from(v.data, Math.abs) }]));
}

/** Runs g's f32 program on `products` and checks y against the float64 reference. */
function check(t: ExecutionContext, g: Graph, what: string, products: Products = shared, seed = what.length): void {
  const feeds = randomFeeds(g, seed);
  const exe = new CpuExecutable(lowerCpu(g), "f32", { products });
  const y = exe.run(feeds, new Map()).get("y")!;
  const expected = evaluate(g, feeds).get("y")!.data.slice();
  const magnitude = evaluate(g, absolute(feeds)).get("y")!.data;
  t.is(y.data.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(y.data[i]! - expected[i]!);
    if (!(err <= TOL * magnitude[i]!)) {
      t.fail(`${what}: element ${i} is ${y.data[i]}, expected ${expected[i]} (error ${err}, allowed ${TOL * magnitude[i]!})`);
      return;
    }
  }
  t.pass();
}

// ---- matmul -------------------------------------------------------------------

const stored = (rows: number, cols: number, trans: boolean): number[] => (trans ? [cols, rows] : [rows, cols]);

function matmulGraph(m: number, k: number, n: number, transA: boolean, transB: boolean, batch: readonly number[] = []): Graph {
  const a = input("a", [...batch, ...stored(m, k, transA)]);
  const b = input("b", [...batch, ...stored(k, n, transB)]);
  return graph([a, b], make("matmul", [a, b], { transA, transB }));
}

const SIZES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [3, 1, 17],
  [17, 31, 3],
  [31, 65, 129],
  [65, 17, 1],
  [129, 3, 65],
  [7, 11, 13],
  [37, 101, 53],
  [1, 257, 9],
  [131, 1, 127],
];

for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  const layout = `${transA ? "Aᵀ" : "A"}·${transB ? "Bᵀ" : "B"}`;
  test(`matmul ${layout} at odd sizes matches the float64 reference`, (t) => {
    for (const [m, k, n] of SIZES) check(t, matmulGraph(m, k, n, transA, transB), `${layout} ${m}x${k}x${n}`);
  });
  test(`batched matmul ${layout} matches the float64 reference`, (t) => {
    check(t, matmulGraph(5, 7, 9, transA, transB, [3]), `${layout} [3] 5x7x9`);
    check(t, matmulGraph(17, 1, 4, transA, transB, [2, 3]), `${layout} [2, 3] 17x1x4`);
  });
}

test("matmul 512x512x512 (several cache blocks of depth) matches the float64 reference", (t) => {
  check(t, matmulGraph(512, 512, 512, false, false), "512^3");
  check(t, matmulGraph(512, 300, 129, true, true), "512x300x129 ᵀᵀ");
});

test("a batch broadcast by the frontend ([4, 1, 6, 5] @ [3, 5, 2]) matches the float64 reference", (t) => {
  const a = input("a", [4, 1, 6, 5]);
  const b = input("b", [3, 5, 2]);
  check(t, graph([a, b], composedMatmul(a, b)), "broadcast batch");
});

// ---- convolutions ---------------------------------------------------------------

function checkConv(t: ExecutionContext, cs: ConvCase, products: Products = shared): void {
  const attrs = convAttrs(cs);
  const ks = kernelShape(cs);
  const what = `x [${cs.x}] k [${ks}] stride [${cs.stride}] pad [${cs.pad}] dilation [${attrs.dilation}] groups ${attrs.groups}`;
  const x = input("x", cs.x);
  const k = input("k", ks);
  const dy = input("dy", outputShape(cs));
  check(t, graph([x, k], make("conv2d", [x, k], attrs)), `conv2d ${what}`, products);
  check(t, graph([dy, k], make("conv2dInputGrad", [dy, k], { ...attrs, inputSize: [cs.x[1], cs.x[2]] })), `conv2dInputGrad ${what}`, products);
  check(t, graph([x, dy], make("conv2dFilterGrad", [x, dy], { ...attrs, kernelSize: [cs.k[0], cs.k[1]] })), `conv2dFilterGrad ${what}`, products);
}

const SAME: Pads = [1, 1, 1, 1];

const CONVS: readonly ConvCase[] = [
  { x: [1, 1, 1, 1], k: [1, 1, 1], stride: [1, 1], pad: [0, 0, 0, 0] },
  { x: [3, 7, 5, 3], k: [3, 3, 5], stride: [1, 1], pad: SAME },
  { x: [2, 9, 8, 17], k: [3, 2, 3], stride: [2, 3], pad: [0, 2, 1, 0] },
  { x: [1, 11, 13, 5], k: [5, 3, 7], stride: [3, 2], pad: [2, 1, 0, 1] },
  { x: [2, 6, 6, 1], k: [2, 2, 31], stride: [2, 2], pad: [0, 0, 0, 0] },
  { x: [1, 5, 5, 2], k: [1, 1, 3], stride: [1, 1], pad: [0, 0, 0, 0] },
  // The CNN's shapes (batch 2), and depths past one cache block (3·3·30 = 270, 3·3·31 = 279).
  { x: [2, 28, 28, 1], k: [3, 3, 16], stride: [1, 1], pad: SAME },
  { x: [2, 14, 14, 16], k: [3, 3, 32], stride: [1, 1], pad: SAME },
  { x: [2, 13, 13, 30], k: [3, 3, 31], stride: [1, 1], pad: SAME },
];

// Dilated, grouped (channels per group a multiple of 4 or not: the two paths
// of the transposed packer), depthwise (the direct loops) and all at once.
const VARIANTS: readonly ConvCase[] = [
  { x: [2, 9, 11, 3], k: [3, 3, 5], stride: [1, 1], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { x: [1, 12, 10, 4], k: [2, 3, 6], stride: [2, 1], pad: [0, 1, 3, 0], dilation: [3, 2] },
  { x: [2, 7, 7, 8], k: [3, 3, 6], stride: [1, 1], pad: SAME, groups: 2 },
  { x: [2, 6, 9, 12], k: [3, 2, 9], stride: [1, 2], pad: [1, 0, 0, 1], groups: 3 },
  { x: [1, 8, 8, 16], k: [3, 3, 8], stride: [1, 1], pad: SAME, groups: 2 },
  { x: [2, 6, 7, 5], k: [3, 3, 10], stride: [1, 1], pad: SAME, groups: 5 },
  { x: [2, 10, 9, 6], k: [3, 2, 4], stride: [2, 2], pad: [2, 1, 1, 2], dilation: [2, 3], groups: 2 },
];

test("conv2d and both gradients match the float64 reference at odd sizes, strides and paddings", (t) => {
  for (const cs of CONVS) checkConv(t, cs);
});

test("dilated, grouped and depthwise convolutions match the float64 reference", (t) => {
  for (const cs of VARIANTS) checkConv(t, cs);
});

test("random convolution geometries match the float64 reference", (t) => {
  const r = new Random(11);
  const pick = <T>(xs: readonly T[]): T => xs[r.int(xs.length)]!;
  for (let checked = 0; checked < 30; ) {
    const groups = pick([1, 1, 1, 2, 3]);
    const cs: ConvCase = {
      x: [pick([1, 2, 3]), pick([1, 2, 5, 7, 9]), pick([1, 3, 4, 8]), groups * pick([1, 2, 3, 4, 5, 8])],
      k: [pick([1, 2, 3, 5]), pick([1, 2, 3]), groups * pick([1, 2, 3, 5])],
      stride: [pick([1, 1, 2, 3]), pick([1, 1, 2])],
      pad: [pick([0, 1, 2]), pick([0, 1, 3]), pick([0, 1, 2]), pick([0, 1])],
      dilation: [pick([1, 1, 2]), pick([1, 1, 3])],
      groups,
    };
    const [, oh, ow] = outputShape(cs);
    if (oh < 1 || ow < 1) continue;
    checkConv(t, cs);
    checked++;
  }
});

// ---- which path runs ------------------------------------------------------------

test("the f32 executable runs its products on the wasm engine; the float64 evaluator does not", (t) => {
  if (shared.kind !== "wasm") return t.fail(`no wasm engine on this host: ${shared.reason}`);
  const g = matmulGraph(6, 5, 4, false, true);
  const exe = new CpuExecutable(lowerCpu(g), "f32", { products: shared });
  t.is(exe.products.kind, "wasm");
  const before = shared.engine.calls;
  exe.run(randomFeeds(g, 1), new Map());
  t.is(shared.engine.calls, before + 1);
  // Created on its own, an f32 executable makes its own engine, products or not (its kernels run there too).
  t.is(new CpuExecutable(lowerCpu(g)).products.kind, "wasm");
  const x = input("x", [3]);
  t.is(new CpuExecutable(lowerCpu(graph([x], make("exp", [x], {})))).products.kind, "wasm");
  const reference = new CpuExecutable(lowerCpu(g), "f64");
  t.is(reference.products.kind, "js");
});

test("a forced JavaScript GEMM, and a host without SIMD128, fall back with the reason and the same results", (t) => {
  const forced = createProducts("js");
  t.deepEqual(forced, { kind: "js", reason: "the JavaScript interpreter was asked for" });
  const noSimd = createProducts("wasm", { wasm: true, simd: false, sharedMemory: false, relaxedSimd: false });
  t.deepEqual(noSimd, { kind: "js", reason: "this host's WebAssembly has no SIMD128" });
  t.deepEqual(createProducts("wasm", { wasm: false, simd: false, sharedMemory: false, relaxedSimd: false }), { kind: "js", reason: "this JavaScript host has no WebAssembly" });
  for (const products of [forced, noSimd]) {
    check(t, matmulGraph(17, 31, 3, true, false), "fallback matmul", products);
    checkConv(t, { x: [2, 9, 8, 4], k: [3, 2, 6], stride: [2, 1], pad: [1, 0, 1, 1], dilation: [1, 2], groups: 2 }, products);
  }
});

test("each plan lays out its buffers in the heap once: steps do not grow it, another batch size adds its own region", (t) => {
  const products = createProducts();
  if (products.kind !== "wasm") return t.fail(products.reason);
  const x = make("input", [], { name: "x", shape: ["n", 6], dtype: "f32" });
  const w = input("w", [6, 300]);
  const g = graph([x, w], make("matmul", [x, w], { transA: false, transB: false }));
  const exe = new CpuExecutable(lowerCpu(g), "f32", { products });
  const r = new Random(5);
  const feeds = (n: number): Map<string, NDArray> =>
    new Map([
      ["x", { shape: [n, 6], data: Float32Array.from({ length: n * 6 }, () => r.uniform()) }],
      ["w", { shape: [6, 300], data: Float32Array.from({ length: 6 * 300 }, () => r.uniform()) }],
    ]);
  exe.run(feeds(400), new Map());
  const bytes = products.engine.heap.bytes;
  t.true(bytes >= 4 * 400 * 300, `${bytes} bytes hold the 400 x 300 output`);
  exe.run(feeds(400), new Map());
  t.is(products.engine.heap.bytes, bytes);
  const small = feeds(7);
  const y = exe.run(small, new Map()).get("y")!;
  t.true(products.engine.heap.bytes >= bytes);
  exe.run(feeds(400), new Map());
  const expected = evaluate(g, small).get("y")!;
  t.deepEqual(y.shape, [7, 300]);
  for (let i = 0; i < y.data.length; i++) {
    if (!(Math.abs(y.data[i]! - expected.data[i]!) <= 1e-5 * 6)) return t.fail(`element ${i}: ${y.data[i]} vs ${expected.data[i]}`);
  }
  t.pass();
});
