// Whole f32 programs on a two-thread engine against the same programs on a
// one-thread engine, bit for bit: matmul (batched, every layout) and the three
// convolutions, whose patch packers and col2im scatter run on the worker for
// its share (odd sizes, strides, paddings, dilations, groups; batches of 1, 2
// and 3 images, since the input gradient splits by whole images), and
// pooling with its gradients (split by images too). The
// two-thread engine splits every product and kernel it can, so small shapes
// exercise the split too. Also: where threads cannot be had, the engine runs on one
// and says why.

import test, { type ExecutionContext } from "ava";
import { lowerCpu } from "../../../../compiler/codegen/cpu.js";
import type { Graph, Node } from "../../../../compiler/ir/node.js";
import { make } from "../../../../compiler/ops/make.js";
import { CpuExecutable } from "../../../../runtime/cpu/executable.js";
import { createProducts, type Products } from "../../../../runtime/cpu/wasm/engine.js";
import type { Pads, Pair } from "../../../../runtime/program/ops.js";
import { wasmFeatures } from "../../../../runtime/wasm/features.js";
import { input } from "../../../helpers/gradcheck.js";
import { graph, randomFeeds } from "../../../helpers/feeds.js";
import { convAttrs, kernelShape, outputShape, type ConvCase } from "../../../helpers/products.js";

const one = createProducts("wasm", wasmFeatures(), 1);
const two = createProducts("wasm", wasmFeatures(), 2, { parallelMacs: 0, parallelCost: 0 });
test.after.always(() => two.kind === "wasm" && two.engine.gemm.dispose());

function engines(t: ExecutionContext): boolean {
  if (one.kind !== "wasm" || two.kind !== "wasm") {
    t.fail(`no wasm engine: ${one.kind === "js" ? one.reason : two.kind === "js" ? two.reason : ""}`);
    return false;
  }
  t.is(two.engine.gemm.threads, 2, two.engine.oneThread);
  return true;
}



/** Runs g on one thread and on two; the outputs must have the same bits. */
function same(t: ExecutionContext, g: Graph, what: string): void {
  const f = randomFeeds(g, what.length);
  const run = (products: Products): Float32Array => new CpuExecutable(lowerCpu(g), "f32", { products }).run(f, new Map()).get("y")!.data.slice() as Float32Array;
  const [y1, y2] = [run(one), run(two)];
  const [u, v] = [new Uint32Array(y1.buffer), new Uint32Array(y2.buffer)];
  t.is(u.length, v.length, `${what}: length`);
  for (let i = 0; i < u.length; i++) {
    if (u[i] !== v[i]) return t.fail(`${what}: element ${i} is ${y2[i]} on two threads, ${y1[i]} on one`);
  }
  t.pass();
}

test("matmul in every layout, batched, on two threads equals one thread bit for bit", (t) => {
  if (!engines(t)) return;
  const before = (two as { engine: { gemm: { splits: number } } }).engine.gemm.splits;
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    for (const [m, k, n, batch] of [[129, 17, 3, []], [3, 1000, 129, []], [17, 129, 1000, [2]], [1, 3, 17, [3]]] as const) {
      const a = input("a", [...batch, ...(transA ? [k, m] : [m, k])]);
      const b = input("b", [...batch, ...(transB ? [n, k] : [k, n])]);
      same(t, graph([a, b], make("matmul", [a, b], { transA, transB })), `${transA}/${transB} [${batch}] ${m}x${k}x${n}`);
    }
  }
  t.true((two as { engine: { gemm: { splits: number } } }).engine.gemm.splits > before, "products were split");
});

const CONVS: readonly ConvCase[] = [
  { x: [3, 7, 5, 3], k: [3, 3, 5], stride: [1, 1], pad: [1, 1, 1, 1] },
  { x: [2, 9, 8, 17], k: [3, 2, 3], stride: [2, 3], pad: [0, 2, 1, 0] },
  { x: [1, 11, 13, 5], k: [5, 3, 7], stride: [3, 2], pad: [2, 1, 0, 1] },
  { x: [2, 14, 14, 16], k: [3, 3, 32], stride: [1, 1], pad: [1, 1, 1, 1] },
  { x: [3, 13, 13, 30], k: [3, 3, 31], stride: [1, 1], pad: [1, 1, 1, 1] },
  { x: [2, 9, 11, 3], k: [3, 3, 5], stride: [1, 1], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { x: [3, 6, 9, 12], k: [3, 2, 9], stride: [1, 2], pad: [1, 0, 0, 1], groups: 3 },
  { x: [2, 10, 9, 6], k: [3, 2, 4], stride: [2, 2], pad: [2, 1, 1, 2], dilation: [2, 3], groups: 2 },
];

test("conv2d and both gradients on two threads equal one thread bit for bit", (t) => {
  if (!engines(t)) return;
  const splits = (): number => (two as { engine: { gemm: { splits: number } } }).engine.gemm.splits;
  for (const cs of CONVS) {
    const attrs = convAttrs(cs);
    const x = input("x", cs.x);
    const k = input("k", kernelShape(cs));
    const dy = input("dy", outputShape(cs));
    const what = `x [${cs.x}] k [${cs.k}] stride [${cs.stride}] pad [${cs.pad}] dilation [${attrs.dilation}] groups ${attrs.groups}`;
    same(t, graph([x, k], make("conv2d", [x, k], attrs)), `conv2d ${what}`);
    const before = splits();
    same(t, graph([dy, k], make("conv2dInputGrad", [dy, k], { ...attrs, inputSize: [cs.x[1], cs.x[2]] })), `conv2dInputGrad ${what}`);
    t.is(splits() - before, cs.x[0] > 1 ? attrs.groups : 0, `conv2dInputGrad ${what}: split by images where there are two`);
    same(t, graph([x, dy], make("conv2dFilterGrad", [x, dy], { ...attrs, kernelSize: [cs.k[0], cs.k[1]] })), `conv2dFilterGrad ${what}`);
  }
});

test("pooling and its gradients on two threads (whole images each) equal one thread bit for bit", (t) => {
  if (!engines(t)) return;
  const pool = (two as { engine: { gemm: { pool?: { posted: number } } } }).engine.gemm.pool!;
  for (const [x, size, stride, pad] of [
    [[4, 40, 41, 12], [2, 2], [2, 2], [0, 0, 0, 0]],
    [[3, 64, 64, 5], [3, 3], [1, 1], [1, 1, 1, 1]],
    [[5, 33, 35, 16], [3, 3], [2, 2], [0, 1, 1, 0]],
  ] as [number[], Pair, Pair, Pads][]) {
    const oh = Math.floor((x[1]! + pad[0] + pad[1] - size[0]) / stride[0]) + 1;
    const ow = Math.floor((x[2]! + pad[2] + pad[3] - size[1]) / stride[1]) + 1;
    const attrs = { size, stride, pad };
    const xi = input("x", x);
    const dy = input("dy", [x[0]!, oh, ow, x[3]!]);
    const what = `x [${x}] size ${size} stride ${stride} pad ${pad}`;
    const before = pool.posted;
    same(t, graph([xi], make("maxPool2d", [xi], attrs)), `maxPool2d ${what}`);
    same(t, graph([xi, dy], make("maxPool2dGrad", [xi, dy], attrs)), `maxPool2dGrad ${what}`);
    same(t, graph([xi], make("avgPool2d", [xi], attrs)), `avgPool2d ${what}`);
    same(t, graph([dy], make("avgPool2dGrad", [dy], { ...attrs, inputSize: [x[1]!, x[2]!] })), `avgPool2dGrad ${what}`);
    t.true(pool.posted - before >= 4, `${what}: each pooling posted to the worker`);
    // And the range kernels, on one thread, compute what the JavaScript kernels do: max exactly, averages
    // within 1e-6 (inputs in [-1, 1); float32 sums of up to 9 terms against the JavaScript kernel's float64).
    for (const [g, name, tolerance] of [[graph([xi, dy], make("maxPool2dGrad", [xi, dy], attrs)), "maxPool2dGrad", 0], [graph([xi], make("avgPool2d", [xi], attrs)), "avgPool2d", 1e-6]] as const) {
      const f = randomFeeds(g, 3);
      const wasm = new CpuExecutable(lowerCpu(g), "f32", { products: one }).run(f, new Map()).get("y")!.data;
      const js = new CpuExecutable(lowerCpu(g), "f32", { products: "js" }).run(f, new Map()).get("y")!.data;
      const differs = wasm.findIndex((v, i) => (tolerance === 0 ? !Object.is(v, js[i]) : !(Math.abs(v - js[i]!) <= tolerance)));
      t.is(differs, -1, `${name} ${what}: element ${differs} is ${wasm[differs]}, the JavaScript kernel's ${js[differs]}`);
    }
  }
});

// The plan's kernel module imports the engine's memory as shared when it is.
test("a program with fused kernels runs on a two-thread engine", (t) => {
  if (!engines(t)) return;
  const a = input("a", [9, 9]);
  same(t, graph([a], make("add", [make("matmul", [a, a], { transA: false, transB: true }), a], {})), "matmul + add");
});

test("one thread by default, and where threads cannot be had, with the reason", (t) => {
  const single = createProducts();
  if (single.kind !== "wasm") return t.fail(single.reason);
  t.is(single.engine.gemm.threads, 1);
  t.is(single.engine.oneThread, undefined);
  const noShared = createProducts("wasm", { wasm: true, simd: true, sharedMemory: false, relaxedSimd: false }, 2);
  if (noShared.kind !== "wasm") return t.fail(noShared.reason);
  t.is(noShared.engine.gemm.threads, 1);
  t.is(noShared.engine.oneThread, "this host's WebAssembly has no shared memory");
  t.deepEqual(createProducts("js", wasmFeatures(), 2), { kind: "js", reason: "the JavaScript interpreter was asked for" });
});

test("by default, a kernel splits across threads when its work per element pays for it: not a memory-bound pass over 100K elements, an exp over the same does", (t) => {
  const engine = createProducts("wasm", wasmFeatures(), 2);
  if (engine.kind !== "wasm") return t.fail(engine.reason);
  try {
    const pool = engine.engine.gemm.pool!;
    const x = input("x", [128, 784]);
    const posts = (y: Node): number => {
      const g = graph([x], y);
      const exe = new CpuExecutable(lowerCpu(g), "f32", { products: engine });
      const feeds = randomFeeds(g, 1);
      exe.run(feeds, new Map()); // plans, and loads the plan's module in the worker
      const before = pool.posted;
      exe.run(feeds, new Map());
      return pool.posted - before;
    };
    t.is(posts(make("div", [x, make("const", [], { value: 255, shape: [128, 784], dtype: "f32" })], {})), 0, "pixels / 255 stays on one thread");
    t.is(posts(make("exp", [x], {})), 1, "exp(pixels) splits: one job posted to the worker");
  } finally {
    engine.engine.gemm.dispose();
  }
});
