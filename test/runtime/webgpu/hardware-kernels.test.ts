// The hardware family's products (workgroup-gemm.ts, hardware.ts) on
// awkward shapes, against the CPU interpreter (normwise relative error
// <= 1e-4), each with every tile it can have: sizes of 1, primes, sizes just
// past a tile and a slice, exact multiples, a product larger than many tiles,
// batched and symbolic sizes; operands read as vec4s where their layout
// allows and as scalars elsewhere (checked in the WGSL, so that a shape
// cannot silently take the other path); and convolutions whose channels do
// and do not come in fours. matmul-shapes.test.ts and conv-variants.test.ts
// run the software family's tables in this family too.

import test from "ava";
import type { Node } from "../../../compiler/ir/node.js";
import { matmul } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import type { Dim } from "../../../runtime/program/dim.js";
import type { WorkgroupTile } from "../../../runtime/program/gpu.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { closeGpu, matchesCpu } from "../../helpers/gpu.js";
import { batchFeeds } from "../../helpers/feeds.js";
import { convAttrs, kernelShape, LAYOUTS, outputShape, type ConvCase } from "../../helpers/products.js";

test.after.always(closeGpu);

const TILES: readonly WorkgroupTile[] = [
  { rows: 64, cols: 64, depth: 16, block: [4, 4], buffers: 2 },
  { rows: 32, cols: 32, depth: 16, block: [4, 4], buffers: 2 },
  { rows: 32, cols: 32, depth: 16, block: [4, 4], buffers: 1 },
];
const tileName = (t: WorkgroupTile) => `${t.rows}x${t.cols}, ${t.buffers} buffer${t.buffers > 1 ? "s" : ""}`;

const input = (name: string, shape: readonly Dim[]) => make("input", [], { name, shape, dtype: "f32" });
const graph = (inputs: Node[], outputs: Record<string, Node>) => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });

const feed = (seed: number, xs: readonly Node[], batch = 1): Map<string, NDArray> => batchFeeds(seed, 23, xs, batch);

// ---- matmul -------------------------------------------------------------------

interface Case {
  readonly what: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly batch?: number;
}

const CASES: Case[] = [
  { what: "ones", m: 1, k: 1, n: 1 },
  { what: "a row times a column", m: 1, k: 37, n: 1 },
  { what: "primes", m: 13, k: 29, n: 31 },
  { what: "primes past a tile", m: 97, k: 61, n: 89 },
  { what: "just past a tile and a slice", m: 65, k: 17, n: 33 },
  { what: "exact multiples of every tile", m: 64, k: 64, n: 128 },
  { what: "multiples of 4 that are not of a tile", m: 36, k: 20, n: 44 },
  { what: "many tiles", m: 300, k: 150, n: 260 },
  { what: "a batch of small products", m: 7, k: 12, n: 9, batch: 3 },
];

for (const c of CASES) {
  for (const [transA, transB] of LAYOUTS) {
    test.serial(`matmul, ${c.what}: ${c.batch ? `${c.batch} x ` : ""}${c.m}x${c.k} @ ${c.k}x${c.n}, transA ${transA}, transB ${transB}, bias and relu, every tile`, async (t) => {
      const lead = c.batch ? [c.batch] : [];
      const a = input("a", [...lead, ...(transA ? [c.k, c.m] : [c.m, c.k])]);
      const b = input("b", [...lead, ...(transB ? [c.n, c.k] : [c.k, c.n])]);
      const bias = input("bias", [c.n]);
      const z = ops.binaryOp("add", matmul(a, b, transA, transB), bias);
      const g = graph([a, b, bias], { z, h: ops.relu(z) });
      // Each operand is contiguous along K or its own size, as laid out: vec4s where that is a multiple of 4.
      const [alongA, alongB] = [transA ? c.m : c.k, transB ? c.k : c.n];
      for (const tile of TILES) {
        const { kernels } = await matchesCpu(t, g, feed(c.m * c.n + c.k, [a, b, bias]), new Map(), { family: "hardware", tiles: [tile] });
        const wgsl = kernels.find((k) => k.family === "hardware")!.code.wgsl;
        t.is((wgsl.match(/var<storage, read> b\d+v4/g) ?? []).length, Number(alongA % 4 === 0) + Number(alongB % 4 === 0), `${tileName(tile)}: vec4 reads of exactly the operands whose layout allows them`);
      }
    });
  }
}

test.serial("matmul with symbolic sizes: a batch of rows, and the batch as the reduction (a weight gradient), batches of 1, 5, 67 and 130, every tile", async (t) => {
  const x = input("x", ["batch", 36]);
  const g = input("g", ["batch", 21]);
  const w = input("w", [36, 21]);
  const outs = { dw: matmul(x, g, true, false), y: ops.relu(matmul(x, w)), dx: matmul(g, w, false, true) };
  for (const tile of TILES) for (const batch of [1, 5, 67, 130]) await matchesCpu(t, graph([x, g, w], outs), feed(batch, [x, g, w], batch), new Map(), { family: "hardware", tiles: [tile] });
});

test.serial("matmul with a prologue on an operand (read as scalars) and an optimizer update as its epilogue, every tile", async (t) => {
  const a = input("a", [50, 32]);
  const b = input("b", [32, 72]);
  const p = input("p", [50, 72]);
  const step = input("step", []);
  const grad = matmul(ops.binaryOp("div", a, 255), b);
  const scale = ops.binaryOp("sub", 1, ops.binaryOp("pow", 0.9, step));
  const update = ops.binaryOp("sub", p, ops.binaryOp("mul", 0.01, ops.binaryOp("div", grad, scale)));
  const feeds = feed(5, [a, b, p]);
  feeds.set("step", { shape: [], data: Float32Array.of(3) });
  for (const tile of TILES) {
    const { kernels } = await matchesCpu(t, graph([a, b, p, step], { update, grad }), feeds, new Map(), { family: "hardware", tiles: [tile] });
    const wgsl = kernels.find((k) => k.family === "hardware")!.code.wgsl;
    t.regex(wgsl, /\/ 255\.0/, "the prologue is computed where the slice is staged");
    t.is((wgsl.match(/var<storage, read> b\d+v4/g) ?? []).length, 1, "the right operand alone is read as vec4s");
  }
});

// ---- convolutions ---------------------------------------------------------------

/** `vec4`: whether both operands of each product are read as vec4s (unfused, where every operand is a buffer), else neither. */
const CONVS: (ConvCase & { readonly what: string; readonly vec4: boolean })[] = [
  { what: "channels in fours (vec4 reads of every operand)", x: [2, 9, 7, 8], k: [3, 3, 12], stride: [1, 1], pad: [1, 1, 1, 1], vec4: true },
  { what: "prime channels and sizes, stride 2", x: [3, 11, 13, 3], k: [3, 2, 5], stride: [2, 2], pad: [1, 1, 0, 1], vec4: false },
  { what: "one channel, a 1x1 image", x: [2, 1, 1, 1], k: [1, 1, 1], stride: [1, 1], pad: [0, 0, 0, 0], vec4: false },
  { what: "dilated, grouped, 4 channels per group", x: [2, 10, 9, 8], k: [3, 3, 8], stride: [1, 2], pad: [2, 2, 2, 2], dilation: [2, 2], groups: 2, vec4: true },
  { what: "more pixels than a 64-row tile, a long filter-gradient reduction", x: [4, 17, 15, 5], k: [2, 3, 7], stride: [1, 1], pad: [0, 1, 1, 1], vec4: false },
];

for (const c of CONVS) {
  test.serial(`convolutions, ${c.what}: x [${c.x}] k [${kernelShape(c)}], stride ${c.stride}, pad ${c.pad}, dilation ${c.dilation ?? [1, 1]}, groups ${c.groups ?? 1}: all three products, every tile, fused and unfused`, async (t) => {
    const attrs = convAttrs(c);
    const x = input("x", c.x);
    const k = input("k", kernelShape(c));
    const dy = input("dy", outputShape(c));
    const bias = input("bias", [c.k[2]]);
    const y = ops.relu(ops.binaryOp("add", make("conv2d", [x, k], attrs), bias));
    const dx = make("conv2dInputGrad", [dy, k], { ...attrs, inputSize: [c.x[1], c.x[2]] });
    const dk = make("conv2dFilterGrad", [x, dy], { ...attrs, kernelSize: [c.k[0], c.k[1]] });
    const outs = { y, dx: ops.where(ops.binaryOp("greater", x, 0), dx, 0), kNext: ops.binaryOp("sub", k, ops.binaryOp("mul", dk, 0.01)) };
    for (const fusion of [true, false]) {
      for (const tile of TILES) {
        const { kernels } = await matchesCpu(t, graph([x, k, dy, bias], outs), feed(c.x[3] + c.k[2], [x, k, dy, bias]), new Map(), { family: "hardware", tiles: [tile], fusion });
        const products = kernels.filter((kn) => kn.family === "hardware");
        t.is(products.length, 3);
        if (!fusion) for (const p of products) t.is((p.code.wgsl.match(/var<storage, read> b\d+v4/g) ?? []).length, c.vec4 ? 2 : 0, `${p.code.name}: vec4 reads`);
      }
    }
  });
}
