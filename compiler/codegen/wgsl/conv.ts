// Convolutions as implicit matrix products, with matmul.ts's register tiles
// (each invocation accumulates r x c results in registers, reading its
// operands straight from their buffers; see there for why). Nothing is
// copied into im2col form: the product's rows and columns are decoded into
// NHWC coordinates once per tile, and the reduction walks the kernel's taps
// with the channel loop innermost over contiguous memory. (The taps are a
// loop, not unrolled: llvmpipe compiles a kernel at its first dispatch, in
// time that grows quickly with its length.)
//
//   conv2d            rows: output pixels [N*OH*OW]   cols: out channels   reduce: taps x in channels
//   conv2dInputGrad   rows: input pixels [N*H*W]      cols: in channels    reduce: taps x out channels
//   conv2dFilterGrad  rows: taps x in channels        cols: out channels   reduce: N*OH*OW output pixels
//
// A grouped convolution is `groups` such products side by side, one more
// grid axis: each workgroup's tile lies in one group, whose channel offsets
// it adds to its reads and writes. Dilation scales the tap's offset (ky·dh).
// Ungrouped, undilated convolutions are written exactly as before either
// existed.
//
// A filter gradient has few results and a long reduction, so its 8 lanes
// share one tile and split the reduction between them (by rows of output
// pixels), then add their partial tiles through workgroup memory.
// Out-of-range taps (padding) contribute zeros through select, never a
// branch; the fused epilogue (bias, activation, an optimizer update) runs on
// each finished accumulator.

import { numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { dilated, groupOffset, pixelRowsOf, sourcePixel } from "./conv-taps.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";
import { storeTile } from "./epilogue.js";
import { chooseTiling, LANES, tileCols, tileRows, type Tiling } from "./matmul.js";
import { acc, accumulate, declareAccumulators, reductionLoop, unrollFor } from "./register-tile.js";

type Conv = NodeOf<"conv2d"> | NodeOf<"conv2dInputGrad"> | NodeOf<"conv2dFilterGrad">;

export function convKernel(env: KernelEnv, name: string, conv: Conv, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, conv]);
  k.noteOp(conv.op);
  return conv.op === "conv2dFilterGrad" ? filterGrad(k, env, conv, outputs) : pixelRows(k, env, conv, outputs);
}

/**
 * The tile's first row and column from the workgroup and lane (tiles numbered row-major); with
 * groups, first the workgroup's group `grp` (its tiles are numbered within the group).
 */
function tileOrigin(k: KernelBuilder, t: Tiling, rows: Dim, cols: number, sharedTile: boolean, groups: number): void {
  const e = k.emitter;
  const tilesN = Math.ceil(cols / tileCols(t));
  let tile = "wg";
  if (groups > 1) {
    e.line(`let tiles = ((${dimExpr(rows)} + ${tileRows(t) - 1}u) / ${tileRows(t)}u) * ${tilesN}u;`);
    e.line(`let grp = wg / tiles;`);
    e.line(`if (grp >= ${groups}u) { return; }`);
    e.line(`let tile = wg % tiles;`);
    tile = "tile";
  }
  e.line(`let m0 = (${tile} / ${tilesN}u) * ${tileRows(t)}u${sharedTile ? "" : ` + (lid / ${t.lanesX}u) * ${t.r}u`};`);
  e.line(`let n0 = (${tile} % ${tilesN}u) * ${tileCols(t)}u${sharedTile ? "" : ` + (lid % ${t.lanesX}u) * ${t.c}u`};`);
}

/** The grid: tiles of the result's rows and columns, within each group. */
function convGrid(groups: number, rows: Dim, cols: number, perRow: number, perCol: number) {
  const tiles = [{ size: rows, per: perRow }, { size: cols, per: perCol }];
  return groups === 1 ? tiles : [{ size: groups, per: 1 }, ...tiles];
}

/** conv2d and conv2dInputGrad: a row per pixel of the result, the reduction over taps and the other side's channels in the group. */
function pixelRows(k: KernelBuilder, env: KernelEnv, conv: NodeOf<"conv2d"> | NodeOf<"conv2dInputGrad">, outputs: readonly Node[]): GpuKernel {
  const e = k.emitter;
  const { p, q, forward, groups, RH, RW, cols, KH, KW, C, O, colsG, depthG, source } = pixelRowsOf(conv);
  const pixels: Dim = numel(conv.shape.slice(0, 3));
  const taps = KH * KW;
  const t = chooseTiling(pixels, colsG, taps * depthG, groups);
  e.line(`let pixels = ${dimExpr(pixels)};`);
  tileOrigin(k, t, pixels, colsG, false, groups);
  // Each row's pixel (rows past the end repeat the last pixel and are never stored).
  for (let i = 0; i < t.r; i++) {
    e.line(`let px${i} = min(m0 + ${i}u, pixels - 1u); let x${i} = i32(px${i} % ${RW}u); let y${i} = i32((px${i} / ${RW}u) % ${RH}u); let img${i} = px${i} / ${RW * RH}u;`);
  }
  for (let j = 0; j < t.c; j++) e.line(`let ch${j} = min(n0 + ${j}u, ${colsG - 1}u);`);
  declareAccumulators(e, t);
  e.block(`for (var tap = 0u; tap < ${taps}u; tap = tap + 1u)`, () => {
    e.line(`let ky = i32(tap / ${KW}u); let kx = i32(tap % ${KW}u);`);
    // Where each row's pixel reads the source through this tap, and whether it lies inside.
    for (let i = 0; i < t.r; i++) sourcePixel(e, source, { y: `y${i}`, x: `x${i}`, ky: "ky", kx: "kx", img: `img${i}` }, `${i}`, groupOffset(groups, depthG));
    // conv2d's kernel is [tap, C, O] read at (ci, out channel); the input gradient's at (in channel, co).
    // The group's out channels start at grp * (O / groups): the result's for conv2d, the reduction's for the input gradient.
    e.line(`let wTap = tap * ${C * O}u${groupOffset(groups, O / groups)};`);
    const weight = (j: number, d: string) => k.operand(q, forward ? `wTap + ${d} * ${O}u + ch${j}` : `wTap + ch${j} * ${O}u + ${d}`);
    const step = (d: string) =>
      accumulate(
        e,
        t,
        (i) => `select(0.0, ${k.operand(p, `src${i} + ${d}`)}, ok${i})`,
        (j) => weight(j, d),
      );
    if (depthG === 1) step("0u");
    else reductionLoop(e, "d", `${depthG}u`, unrollFor(t), step);
  });
  storeTile(
    k,
    env,
    conv,
    outputs,
    t,
    (i, j) => `m0 + ${i} < pixels && n0 + ${j} < ${colsG}u`,
    (i, j) => `(m0 + ${i}) * ${cols}u${groupOffset(groups, colsG)} + n0 + ${j}`,
  );
  const grid = convGrid(groups, pixels, colsG, tileRows(t), tileCols(t));
  return k.build({ workgroupSize: LANES, grid, body: e.code() });
}

/** conv2dFilterGrad: a row per (tap, in channel of the group), the reduction over every output pixel, split between the lanes. */
function filterGrad(k: KernelBuilder, env: KernelEnv, conv: NodeOf<"conv2dFilterGrad">, outputs: readonly Node[]): GpuKernel {
  const e = k.emitter;
  const [x, dy] = [inputAt(conv, 0), inputAt(conv, 1)];
  const { stride: [sh, sw], pad: [pt, , pl], dilation: [dh, dw], groups } = conv.attrs;
  const [, H, W, CX] = x.shape as number[];
  const [, OH, OW, O] = dy.shape as number[];
  const [KH, KW, C] = conv.shape as number[]; // C = CX / groups
  const OG = O / groups;
  const rows = KH * KW * C;
  const outputRows: Dim = numel(dy.shape.slice(0, 2)); // N * OH
  const t = chooseTiling(rows, OG, numel(dy.shape.slice(0, 3)), groups, { split: true });
  tileOrigin(k, t, rows, OG, true, groups);
  // When C is a multiple of r the tile's rows are channels ci0.. of one tap: one bounds check and address for all.
  const oneTap = C % t.r === 0;
  const taps = oneTap ? 1 : t.r;
  for (let i = 0; i < taps; i++) {
    e.line(`let row${i} = min(m0 + ${i}u, ${rows - 1}u); let ci${i} = row${i} % ${C}u${groupOffset(groups, C)}; let ky${i} = i32(row${i} / ${C * KW}u); let kx${i} = i32((row${i} / ${C}u) % ${KW}u);`);
  }
  for (let j = 0; j < t.c; j++) e.line(`let ch${j} = min(n0 + ${j}u, ${OG - 1}u)${groupOffset(groups, OG)};`);
  declareAccumulators(e, t);
  // Lane l takes rows l, l + 8, ... of the output pixels ([N * OH] rows of OW pixels).
  e.block(`for (var orow = lid; orow < ${dimExpr(outputRows)}; orow = orow + ${LANES}u)`, () => {
    e.line(`let n = orow / ${OH}u; let oy = i32(orow % ${OH}u);`);
    e.line(`let dyRow = orow * ${OW * O}u;`);
    for (let i = 0; i < taps; i++) {
      e.line(`let iy${i} = oy * ${sh} + ${dilated(`ky${i}`, dh)} - ${pt}; let okY${i} = iy${i} >= 0 && iy${i} < ${H};`);
      e.line(`let xRow${i} = (n * ${H}u + u32(select(0, iy${i}, okY${i}))) * ${W}u;`);
    }
    reductionLoop(e, "ox", `${OW}u`, unrollFor(t), (ox) => {
      e.block("", () => {
        for (let i = 0; i < taps; i++) {
          e.line(`let ix${i} = i32(${ox}) * ${sw} + ${dilated(`kx${i}`, dw)} - ${pl}; let ok${i} = okY${i} && ix${i} >= 0 && ix${i} < ${W};`);
          e.line(`let xAt${i} = (xRow${i} + u32(select(0, ix${i}, ok${i}))) * ${CX}u + ci${i};`);
        }
        accumulate(
          e,
          t,
          (i) => (oneTap ? `select(0.0, ${k.operand(x, `xAt0 + ${i}u`)}, ok0)` : `select(0.0, ${k.operand(x, `xAt${i}`)}, ok${i})`),
          (j) => k.operand(dy, `dyRow + ${ox} * ${O}u + ch${j}`),
        );
      });
    });
  });
  // The lanes' partial tiles, added up: lane l finishes elements l, l + 8, ... of the tile.
  const size = t.r * t.c;
  for (let i = 0; i < t.r; i++) for (let j = 0; j < t.c; j++) e.line(`partial[${(i * t.c + j) * LANES}u + lid] = ${acc(i, j)};`);
  e.line("workgroupBarrier();");
  e.block(`for (var el0 = lid; el0 < ${size}u; el0 = el0 + ${LANES}u)`, () => {
    e.line(`var total = 0.0;`);
    e.line(`for (var l = 0u; l < ${LANES}u; l = l + 1u) { total = total + partial[el0 * ${LANES}u + l]; }`);
    e.line(`let fi = el0 / ${t.c}u; let fj = el0 % ${t.c}u;`);
    const one: Tiling = { r: 1, c: 1, lanesX: 1, lanesY: 1, slices: 1 };
    storeTile(
      k,
      env,
      conv,
      outputs,
      one,
      () => `m0 + fi < ${rows}u && n0 + fj < ${OG}u`,
      () => `(m0 + fi) * ${O}u${groupOffset(groups, OG)} + n0 + fj`,
      () => "total",
    );
  });
  const preamble = `var<workgroup> partial: array<f32, ${size * LANES}>;`;
  return k.build({ workgroupSize: LANES, grid: convGrid(groups, rows, OG, t.r, t.c), preamble, body: e.code() });
}
