// The hardware family of the contractions: matmul and the three convolutions
// as implicit matrix products (workgroup-gemm.ts), each emitted with the
// workgroup tiles some device would choose for it (tile-cost.ts); the
// runtime picks one per adapter, or runs the software kernel
// (runtime/webgpu/kernel-family.ts).
//
//   matmul            rows: M                   cols: N             depth: K               count: batch
//   conv2d            rows: output pixels       cols: out channels  depth: taps x in ch    count: groups
//   conv2dInputGrad   rows: input pixels        cols: in channels   depth: taps x out ch   count: groups
//   conv2dFilterGrad  rows: taps x in channels  cols: out channels  depth: output pixels   count: groups
//
// (channels are those of one group). Operands are read in place, as the
// software family reads them: a transposed operand through its strides, a
// convolution's input through its taps with zeros for padding (conv-taps.ts),
// a cheap prologue (pixels / 255) as its expression.

import { numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuVariant, ProductShape, WorkgroupTile } from "../../../runtime/program/gpu.js";
import { usefulTiles } from "../../../runtime/program/tile-cost.js";
import type { ContractionNode } from "../../fusion/groups.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { groupOffset, pixelRowsOf, sourcePixel } from "./conv-taps.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";
import { workgroupGemm, type ImplicitGemm } from "./workgroup-gemm.js";

/**
 * The tiles a product may get: 64x64 (256 invocations) for large products, 32x32 (64) for small
 * ones, 4x4 accumulators each; both fit WebGPU's default limits. Double-buffered unless the
 * whole reduction fits one slice, where a second buffer would only hold memory.
 */
const TILES = [64, 32];
const SLICE = 16;

export function tilesFor(product: ProductShape): WorkgroupTile[] {
  const buffers = typeof product.depth === "number" && product.depth <= SLICE ? 1 : 2;
  return usefulTiles(
    TILES.map((size) => ({ rows: size, cols: size, depth: SLICE, block: [4, 4], buffers })),
    product,
  );
}

/** A kernel's name with its tile, so that a profile says what ran: `k3_contraction_matmul_wg64x64x16`. */
export const variantName = (name: string, t: WorkgroupTile) => `${name}_wg${t.rows}x${t.cols}x${t.depth}${t.buffers === 2 ? "_db" : ""}`;

/** The hardware variants of the contraction kernel `name`: with `tiles`, or those worth having. */
export function hardwareVariants(env: KernelEnv, name: string, anchor: ContractionNode, outputs: readonly Node[], tiles?: readonly WorkgroupTile[]): GpuVariant[] {
  // The product alone: readers emit nothing until a kernel calls them.
  const product = gemmOf(new KernelBuilder(env, name, []), anchor).product;
  return (tiles ?? tilesFor(product)).map((tile) => {
    const k = new KernelBuilder(env, variantName(name, tile), [...outputs, anchor]);
    k.noteOp(anchor.op);
    return { ...workgroupGemm(k, env, anchor, outputs, gemmOf(k, anchor), tile), family: "hardware", tile, product };
  });
}

function gemmOf(k: KernelBuilder, n: ContractionNode): ImplicitGemm {
  switch (n.op) {
    case "matmul":
      return matmulGemm(k, n);
    case "conv2d":
    case "conv2dInputGrad":
      return pixelRowsGemm(k, n);
    case "conv2dFilterGrad":
      return filterGradGemm(k, n);
  }
}

function matmulGemm(k: KernelBuilder, mm: NodeOf<"matmul">): ImplicitGemm {
  const [a, b] = [inputAt(mm, 0), inputAt(mm, 1)];
  const { transA, transB } = mm.attrs;
  const rank = mm.shape.length;
  const [Md, Nd] = [mm.shape[rank - 2], mm.shape[rank - 1]];
  const Kd: Dim = transA ? a.shape[rank - 2] : a.shape[rank - 1];
  const [M, N, K] = [Md, Nd, Kd].map(dimExpr) as [string, string, string];
  // Element (m, k) of the left operand and (k, n) of the right one of product bt.
  const lhsAt = (m: string, kk: string) => `bt * ${M} * ${K} + ${transA ? `${kk} * ${M} + ${m}` : `${m} * ${K} + ${kk}`}`;
  const rhsAt = (n: string, kk: string) => `bt * ${K} * ${N} + ${transB ? `${n} * ${K} + ${kk}` : `${kk} * ${N} + ${n}`}`;
  const reader = (x: Node, at: (o: string, kk: string) => string, contiguous: "outer" | "depth") => ({
    contiguous,
    scalar: (o: string, kk: string) => k.operand(x, at(o, kk)),
    vec4: k.hasBuffer(x) ? (o: string, kk: string) => `${k.vectorBuffer(x)}[(${at(o, kk)}) / 4u]` : undefined,
  });
  return {
    product: { rows: Md, cols: Nd, depth: Kd, count: numel(mm.shape.slice(0, -2)) },
    which: "bt",
    lhs: reader(a, lhsAt, transA ? "outer" : "depth"),
    rhs: reader(b, rhsAt, transB ? "depth" : "outer"),
    result: (m, n) => `(bt * ${M} + ${m}) * ${N} + ${n}`,
  };
}

/** conv2d and conv2dInputGrad: a row per pixel of the result, the reduction over taps and the other side's channels in the group. */
function pixelRowsGemm(k: KernelBuilder, conv: NodeOf<"conv2d"> | NodeOf<"conv2dInputGrad">): ImplicitGemm {
  const e = k.emitter;
  const { p, q, forward, groups, RH, RW, cols, KH, KW, C, O, colsG, depthG, source } = pixelRowsOf(conv);
  // The source element that result pixel m reads at reduction step kk (tap, channel of the group); zero in the padding.
  const read = (m: string, kk: string, vector: boolean) => {
    e.line(`let px = ${m}; let x = i32(px % ${RW}u); let y = i32((px / ${RW}u) % ${RH}u); let img = px / ${RW * RH}u;`);
    e.line(`let tap = ${kk} / ${depthG}u; let ch = ${kk} % ${depthG}u; let ky = i32(tap / ${KW}u); let kx = i32(tap % ${KW}u);`);
    sourcePixel(e, source, { y: "y", x: "x", ky: "ky", kx: "kx", img: "img" }, "_", `${groupOffset(groups, depthG)} + ch`);
    return vector ? `select(vec4<f32>(), ${k.vectorBuffer(p)}[src_ / 4u], ok_)` : `select(0.0, ${k.operand(p, "src_")}, ok_)`;
  };
  // conv2d's kernel [tap, C, O] is read at (channel kk of the tap's C, out channel n): contiguous along n.
  // The input gradient's at (in channel n, out channel of the tap's group): contiguous along kk.
  const oG = groupOffset(groups, O / groups);
  const weightAt = forward
    ? (n: string, kk: string) => `${kk} * ${O}u${oG} + ${n}`
    : (n: string, kk: string) => `(${kk} / ${depthG}u) * ${C * O}u${oG} + ${n} * ${O}u + ${kk} % ${depthG}u`;
  const aligned = (d: number) => d % 4 === 0;
  return {
    product: { rows: numel(conv.shape.slice(0, 3)), cols: colsG, depth: KH * KW * depthG, count: groups },
    which: "grp",
    lhs: { contiguous: "depth", scalar: (m, kk) => read(m, kk, false), vec4: k.hasBuffer(p) && aligned(depthG) ? (m, kk) => read(m, kk, true) : undefined },
    rhs: {
      contiguous: forward ? "outer" : "depth",
      scalar: (n, kk) => k.operand(q, weightAt(n, kk)),
      vec4: k.hasBuffer(q) && aligned(forward ? colsG : depthG) ? (n, kk) => `${k.vectorBuffer(q)}[(${weightAt(n, kk)}) / 4u]` : undefined,
    },
    result: (m, n) => `${m} * ${cols}u${groupOffset(groups, colsG)} + ${n}`,
  };
}

/** conv2dFilterGrad: a row per (tap, in channel of the group), the reduction over every output pixel. */
function filterGradGemm(k: KernelBuilder, conv: NodeOf<"conv2dFilterGrad">): ImplicitGemm {
  const e = k.emitter;
  const [x, dy] = [inputAt(conv, 0), inputAt(conv, 1)];
  const { groups } = conv.attrs;
  const [, H, W, CX] = x.shape as number[];
  const [, OH, OW, O] = dy.shape as number[];
  const [KH, KW, C] = conv.shape as number[]; // C = CX / groups
  const OG = O / groups;
  const source = { forward: true, attrs: conv.attrs, height: H, width: W, channels: CX };
  // x where output pixel kk reads it through row's tap, at row's channel: contiguous along rows (channels).
  const read = (row: string, kk: string, vector: boolean) => {
    e.line(`let r = ${row}; let ch = r % ${C}u; let tap = r / ${C}u; let ky = i32(tap / ${KW}u); let kx = i32(tap % ${KW}u);`);
    e.line(`let px = ${kk}; let ox = i32(px % ${OW}u); let oy = i32((px / ${OW}u) % ${OH}u); let img = px / ${OW * OH}u;`);
    sourcePixel(e, source, { y: "oy", x: "ox", ky: "ky", kx: "kx", img: "img" }, "_", `${groupOffset(groups, C)} + ch`);
    return vector ? `select(vec4<f32>(), ${k.vectorBuffer(x)}[src_ / 4u], ok_)` : `select(0.0, ${k.operand(x, "src_")}, ok_)`;
  };
  const dyAt = (n: string, kk: string) => `${kk} * ${O}u${groupOffset(groups, OG)} + ${n}`;
  return {
    product: { rows: KH * KW * C, cols: OG, depth: numel(dy.shape.slice(0, 3)), count: groups },
    which: "grp",
    lhs: { contiguous: "outer", scalar: (r, kk) => read(r, kk, false), vec4: k.hasBuffer(x) && C % 4 === 0 ? (r, kk) => read(r, kk, true) : undefined },
    rhs: { contiguous: "outer", scalar: (n, kk) => k.operand(dy, dyAt(n, kk)), vec4: k.hasBuffer(dy) && OG % 4 === 0 ? (n, kk) => `${k.vectorBuffer(dy)}[(${dyAt(n, kk)}) / 4u]` : undefined },
    result: (r, n) => `${r} * ${O}u${groupOffset(groups, OG)} + ${n}`,
  };
}
