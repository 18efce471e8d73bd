// The register-tiled contraction kernels (matmul.ts, conv.ts) and the
// unrolled pooling kernels (pool.ts) choose their code by shape: the tile
// (rows x columns per invocation, how the 8 lanes of a workgroup are laid
// out, how far the reduction loop is unrolled), whether a filter gradient's
// rows share one tap, whether max-pool windows overlap. Each class of shape
// runs here against the CPU interpreter (normwise relative error <= 1e-4),
// and the test checks that the shape really selects the class it is named
// for, so that a change of the cost model cannot silently drop a path.
// The products run in both kernel families: the hardware family's
// workgroup tiles (workgroup-gemm.ts) on the same shapes, every contraction
// a hardware variant (hardware-kernels.test.ts adds its own edge cases).

import test from "ava";
import type { Node } from "../../../compiler/ir/node.js";
import { matmul } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { chooseTiling, type Tiling } from "../../../compiler/codegen/wgsl/matmul.js";
import { unrollFor } from "../../../compiler/codegen/wgsl/register-tile.js";
import type { Dim } from "../../../runtime/program/dim.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { closeGpu, matchesCpu } from "../../helpers/gpu.js";
import { sample } from "../../helpers/gradcheck.js";
import { LAYOUTS } from "../../helpers/products.js";
import { KERNEL_FAMILIES } from "../../../runtime/program/gpu.js";

test.after.always(closeGpu);

const input = (name: string, shape: readonly Dim[]) => make("input", [], { name, shape, dtype: "f32" });
const graph = (inputs: Node[], outputs: Record<string, Node>) => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });

function feed(seed: number, xs: readonly Node[], batch = 1, values?: (rng: Random, n: number) => Float32Array): Map<string, NDArray> {
  const rng = new Random(seed, 11);
  return new Map(
    xs.map((x) => {
      const shape = x.shape.map((d) => (typeof d === "number" ? d : batch));
      const n = shape.reduce((a, b) => a * b, 1);
      return [(x.attrs as { name: string }).name, { shape, data: values ? values(rng, n) : Float32Array.from(sample(rng, shape)) }] as const;
    }),
  );
}

// ---- matmul -----------------------------------------------------------------

interface MatmulCase {
  readonly what: string;
  readonly m: Dim;
  readonly k: Dim;
  readonly n: Dim;
  readonly batch?: Dim;
  /** The tile this shape must select (checked for every layout). */
  readonly expect: (t: Tiling) => boolean;
}

const matmuls: MatmulCase[] = [
  { what: "wide: big tiles, lanes side by side, tile edges inside the result", m: 200, k: 40, n: 300, expect: (t) => t.r * t.c >= 64 && t.lanesX === 8 && unrollFor(t) === 1 },
  { what: "narrow: lanes stacked down the rows", m: 40, k: 300, n: 3, expect: (t) => t.lanesY === 8 },
  { what: "tiny: one element per lane, the reduction unrolled by 4 with a remainder", m: 7, k: 13, n: 3, expect: (t) => t.r * t.c === 1 && unrollFor(t) === 4 },
  { what: "small tiles: the reduction unrolled by 2 with a remainder", m: 33, k: 9, n: 20, expect: (t) => unrollFor(t) === 2 },
  { what: "a batch of products, each smaller than a tile", m: 6, k: 9, n: 4, batch: 3, expect: (t) => tileCount(t, 6, 4) === 1 },
];

const tileCount = (t: Tiling, m: number, n: number) => Math.ceil(m / (t.r * t.lanesY)) * Math.ceil(n / (t.c * t.lanesX));

for (const family of KERNEL_FAMILIES) {
  for (const c of matmuls) {
    for (const [transA, transB] of LAYOUTS) {
      test.serial(`${family}: matmul ${c.what}: ${c.batch ? `${c.batch} x ` : ""}${c.m}x${c.k} @ ${c.k}x${c.n}, transA ${transA}, transB ${transB}, bias and relu`, async (t) => {
        if (family === "software") t.true(c.expect(chooseTiling(c.m, c.n, c.k, c.batch ?? 1, { strided: { rows: !transA, cols: transB } })), "the shape selects its tile class");
        const lead = c.batch ? [c.batch] : [];
        const a = input("a", [...lead, ...(transA ? [c.k, c.m] : [c.m, c.k])]);
        const b = input("b", [...lead, ...(transB ? [c.n, c.k] : [c.k, c.n])]);
        const bias = input("bias", [c.n]);
        const z = ops.binaryOp("add", matmul(a, b, transA, transB), bias);
        await matchesCpu(t, graph([a, b, bias], { z, h: ops.relu(z) }), feed(Number(c.m) + Number(c.n), [a, b, bias]), new Map(), { family });
      });
    }
  }

  test.serial(`${family}: matmul with a symbolic batch of rows and a symbolic reduction (a weight gradient), batches of 1, 7 and 130`, async (t) => {
    // dW = xᵀ g: the reduction runs over the batch, whose size the kernel reads from `dims`.
    const x = input("x", ["batch", 37]);
    const g = input("g", ["batch", 21]);
    const w = input("w", [37, 21]);
    const dw = matmul(x, g, true, false);
    // y = relu(x w): rows are the batch.
    const y = ops.relu(matmul(x, w));
    for (const batch of [1, 7, 130]) await matchesCpu(t, graph([x, g, w], { dw, y }), feed(batch, [x, g, w], batch), new Map(), { family });
  });

  test.serial(`${family}: matmul epilogue reading one-element values (an optimizer-like update with a step count and learning rate)`, async (t) => {
    const a = input("a", [50, 30]);
    const b = input("b", [30, 70]);
    const p = input("p", [50, 70]);
    const step = input("step", []);
    const lr = input("lr", [1]);
    const grad = matmul(a, b);
    // p - lr * g / (1 - 0.9^step): the scalar parts are computed once per invocation, before the tile's guards.
    const scale = ops.binaryOp("sub", 1, ops.binaryOp("pow", 0.9, step));
    const update = ops.binaryOp("sub", p, ops.binaryOp("mul", lr, ops.binaryOp("div", grad, scale)));
    const feeds = feed(5, [a, b, p, lr]);
    feeds.set("step", { shape: [], data: Float32Array.of(3) });
    await matchesCpu(t, graph([a, b, p, step, lr], { update, grad }), feeds, new Map(), { family });
  });

  test.serial(`${family}: matmul with long strided rows in every layout (the software cost model's stream penalty)`, async (t) => {
    // K = 300 >= 256 elements per row: the tiles keep the lanes' strided rows few.
    for (const [transA, transB] of [[false, false], [false, true], [true, true]] as const) {
      const tile = chooseTiling(24, 130, 300, 1, { strided: { rows: !transA, cols: transB } });
      const streams = (transA ? 1 : tile.r * tile.lanesY) + (transB ? tile.c * tile.lanesX : 1);
      if (family === "software" && !transB) t.true(streams <= 24, `transA ${transA}, transB ${transB}: ${streams} streams`);
      const a = input("a", transA ? [300, 24] : [24, 300]);
      const b = input("b", transB ? [130, 300] : [300, 130]);
      await matchesCpu(t, graph([a, b], { y: matmul(a, b, transA, transB) }), feed(24, [a, b]), new Map(), { family });
    }
  });
}

// ---- convolutions -------------------------------------------------------------

interface ConvCase {
  readonly x: readonly Dim[];
  readonly k: readonly number[];
  readonly stride: number | readonly number[];
  readonly padding: ops.Padding;
  readonly batch?: number;
}

const convs: ConvCase[] = [
  // 16 input channels: the filter gradient's tile rows share one tap.
  { x: [2, 6, 5, 16], k: [3, 3, 16, 12], stride: 1, padding: "same" },
  // 3 input channels: every row of the filter gradient's tile has its own tap.
  { x: [2, 7, 6, 3], k: [3, 3, 3, 20], stride: 2, padding: "same" },
  // One input channel (the reduction is the taps alone), a symbolic batch, an odd kernel.
  { x: ["batch", 9, 8, 1], k: [3, 2, 1, 5], stride: [2, 1], padding: [1, 0, 0, 1], batch: 3 },
  // More output pixels than one workgroup's tile, stride 2 without padding.
  { x: [3, 11, 10, 4], k: [2, 2, 4, 9], stride: 2, padding: "valid" },
];

for (const family of KERNEL_FAMILIES) for (const c of convs) {
  test.serial(`${family}: conv2d x [${c.x}] k [${c.k}] stride ${JSON.stringify(c.stride)} padding ${JSON.stringify(c.padding)}: forward with bias and relu, both gradients with epilogues`, async (t) => {
    const x = input("x", c.x);
    const k = input("k", c.k);
    const bias = input("bias", [c.k[3]!]);
    const conv = ops.conv2d(x, k, c.stride, c.padding);
    if (conv.op !== "conv2d") return t.fail();
    const y = ops.relu(ops.binaryOp("add", conv, bias));
    const dy = input("dy", conv.shape);
    const geometry = conv.attrs;
    const dx = make("conv2dInputGrad", [dy, k], { ...geometry, inputSize: [c.x[1] as number, c.x[2] as number] });
    const dk = make("conv2dFilterGrad", [x, dy], { ...geometry, kernelSize: [c.k[0]!, c.k[1]!] });
    // Epilogues on the gradients: a relu derivative on dx, an SGD step on the kernel.
    const dxMasked = ops.where(ops.binaryOp("greater", x, 0), dx, 0);
    const kNext = ops.binaryOp("sub", k, ops.binaryOp("mul", dk, 0.01));
    const outs = { y, dx: dxMasked, dk, kNext };
    await matchesCpu(t, graph([x, k, bias, dy], outs), feed(c.k[3]!, [x, k, bias, dy], c.batch ?? 1), new Map(), { family });
  });
}

test.serial("conv2dFilterGrad shape classes: shared tap when the tile's rows divide the input channels", (t) => {
  // The filter gradient's rows are (tap, in channel); all 8 lanes share one tile and split the reduction.
  const shared = chooseTiling(3 * 3 * 16, 12, 60, 1, { split: true });
  t.is(shared.slices, 8);
  t.is(16 % shared.r, 0, "16 channels: one tap per tile");
  const own = chooseTiling(3 * 3 * 3, 20, 18, 1, { split: true });
  t.not(3 % own.r, 0, "3 channels: a tap per row");
});

// ---- pooling --------------------------------------------------------------------

interface PoolCase {
  readonly x: readonly Dim[];
  readonly size: number | readonly number[];
  readonly stride: number | readonly number[];
  readonly padding: ops.Padding;
  readonly batch?: number;
}

const pools: PoolCase[] = [
  // Disjoint windows (one invocation per window): odd sizes leave cells outside every window.
  { x: [2, 7, 5, 3], size: 2, stride: 2, padding: "valid" },
  { x: [2, 8, 7, 2], size: 2, stride: 3, padding: "valid" },
  { x: ["batch", 7, 7, 4], size: 3, stride: 3, padding: "same", batch: 2 },
  { x: [1, 6, 9, 2], size: [2, 1], stride: [2, 3], padding: "same" },
  // Overlapping windows (the gather kernel), unrolled.
  { x: [2, 6, 5, 3], size: 3, stride: 1, padding: "same" },
  { x: [1, 9, 8, 2], size: 3, stride: 2, padding: "valid" },
];

for (const c of pools) {
  test.serial(`pooling x [${c.x}] size ${JSON.stringify(c.size)} stride ${JSON.stringify(c.stride)} padding ${c.padding}: max and average, their gradients, ties included`, async (t) => {
    const x = input("x", c.x);
    const maxp = ops.pool("maxPool2d", x, c.size, c.stride, c.padding);
    const avgp = ops.pool("avgPool2d", x, c.size, c.stride, c.padding);
    if (maxp.op !== "maxPool2d" || avgp.op !== "avgPool2d") return t.fail();
    const dy = input("dy", maxp.shape);
    const dmax = make("maxPool2dGrad", [x, dy], maxp.attrs);
    const davg = make("avgPool2dGrad", [dy], { ...avgp.attrs, inputSize: [c.x[1] as number, c.x[2] as number] });
    // The relu derivative after the max gradient, as in a conv, relu, pool block.
    const masked = ops.where(ops.binaryOp("greater", x, 1), dmax, 0);
    const outs = { maxp, avgp, dmax, davg, masked };
    // Values from a small set make ties common: the first maximal cell must win on both backends.
    const ints = (rng: Random, n: number) => Float32Array.from({ length: n }, () => rng.int(3));
    await matchesCpu(t, graph([x, dy], outs), feed(7, [x, dy], c.batch ?? 1, ints));
  });
}
