// Matmul as register tiles: each invocation accumulates an r x c block of the
// result in registers, reading both operands straight from their buffers;
// a workgroup is one SIMD row of 8 invocations, so there is no workgroup
// memory and no barrier. Either operand may be read transposed (no copy);
// leading batch axes, symbolic sizes and sizes that are not multiples of the
// tile are handled (loads are clamped into range, stores are guarded). The
// epilogue (bias, activation, the activation's derivative, an optimizer
// update) is the fused expression of the kernel's outputs, evaluated on each
// accumulator at its flat index.
//
// Why this shape, measured on Mesa's lavapipe (llvmpipe) with
// bench/webgpu/kernels.ts: there, a workgroup runs on one CPU thread with its
// invocations as the lanes of 8-wide vectors, and a load from a storage or
// workgroup buffer at an address that is not a constant costs a scalar load
// per lane, a few nanoseconds, while a fused multiply-add on 8 lanes costs a
// fraction of one. The classic GPU tiling (64x64 tiles staged through
// workgroup memory between barriers) then pays for every element twice and
// for the barriers' coroutine switches; large register tiles instead do r*c
// multiply-adds per r + c loads. Workgroups of 8 keep both CPU threads busy
// on small problems. The tile shape is chosen per contraction from a cost
// model of exactly that (chooseTiling); conv.ts reuses it for convolutions
// as implicit matrix products.

import { nominal, numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { storeTile } from "./epilogue.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";
import { accumulate, declareAccumulators, reductionLoop, unrollFor, type RegisterBlock } from "./register-tile.js";

/** Invocations per workgroup: one 8-wide SIMD row on llvmpipe. */
export const LANES = 8;

/**
 * Each invocation accumulates r rows x c columns of the result; a workgroup's tile is lanesX x lanesY
 * such blocks, and its remaining `slices` lanes (LANES / (lanesX * lanesY)) split the reduction.
 */
export interface Tiling extends RegisterBlock {
  readonly lanesX: number;
  readonly lanesY: number;
  readonly slices: number;
}

export const tileRows = (t: Tiling) => t.r * t.lanesY;
export const tileCols = (t: Tiling) => t.c * t.lanesX;

// The cost model, in nanoseconds per invocation (measured on llvmpipe, AMD EPYC).
const LOAD = 1; // one element loaded by one lane
const FMA = 0.2; // one multiply-add by one lane, accumulator spills included
const STORE = 4; // one element of the epilogue: its loads, arithmetic and stores
const SETUP = 40; // starting a workgroup: index decoding, tile bounds
/** Workgroups below this leave CPU threads idle: cost as if there were this many. */
const MIN_GROUPS = 4;
const SIZES = [1, 2, 3, 4, 6, 8, 12, 16];
const MAX_ACCUMULATORS = 128;
/** Strided rows at least this long (elements) each stream through the caches on their own... */
const LONG_ROW = 256;
/** ...and more than this many such streams per workgroup run about 1.5 times slower. */
const MAX_STREAMS = 24;
const STREAM_PENALTY = 1.5;

export interface TilingOptions {
  /** Whether each result row reads its own long strided row of the left operand (and each column a column of the right). */
  readonly strided?: { readonly rows: boolean; readonly cols: boolean };
  /** All lanes share one tile and split the reduction (the kernel adds their partial tiles). */
  readonly split?: boolean;
}

/**
 * The cheapest register tile for `count` independent products of rows x depth by depth x cols:
 * loads per multiply-add fall as the tile grows, but a tile past the edges of the result is
 * wasted, too few workgroups leave threads idle, and lanes that each walk their own long
 * strided rows (more than about 24 at once) miss the caches.
 */
export function chooseTiling(rows: Dim, cols: Dim, depth: Dim, count: Dim = 1, options: TilingOptions = {}): Tiling {
  const [M, N, K, B] = [rows, cols, depth, count].map(nominal) as [number, number, number, number];
  const strided = options.strided ?? { rows: false, cols: false };
  // Lanes side by side along a row and larger r first: on a tie, the lanes share more of the left operand's loads.
  const arrangements: [number, number][] = options.split ? [[1, 1]] : [LANES, LANES / 2, 2, 1].map((x) => [x, LANES / x]);
  let best: Tiling | undefined;
  let bestCost = Infinity;
  for (const r of [...SIZES].reverse()) {
    for (const c of SIZES) {
      if (r * c > MAX_ACCUMULATORS) continue;
      for (const [lanesX, lanesY] of arrangements) {
        const slices = LANES / (lanesX * lanesY);
        const t: Tiling = { r, c, lanesX, lanesY, slices };
        const groups = B * Math.ceil(M / tileRows(t)) * Math.ceil(N / tileCols(t));
        const perGroup = SETUP + LANES * (Math.ceil(K / slices) * ((r + c) * LOAD + r * c * FMA) + r * c * (STORE / slices + (slices > 1 ? LOAD : 0)));
        const streams = (strided.rows ? tileRows(t) : 1) + (strided.cols ? tileCols(t) : 1);
        const cost = Math.max(groups, MIN_GROUPS) * perGroup * (K >= LONG_ROW && streams > MAX_STREAMS ? STREAM_PENALTY : 1);
        if (cost < bestCost - 1e-9) {
          bestCost = cost;
          best = t;
        }
      }
    }
  }
  if (!best) throw new Error("internal: no register tile fits");
  return best;
}

export function matmulKernel(env: KernelEnv, name: string, mm: NodeOf<"matmul">, outputs: readonly Node[]): GpuKernel {
  const k = new KernelBuilder(env, name, [...outputs, mm]);
  k.noteOp("matmul");
  const e = k.emitter;
  const [a, b] = [inputAt(mm, 0), inputAt(mm, 1)];
  const { transA, transB } = mm.attrs;
  const rank = mm.shape.length;
  const Md = mm.shape[rank - 2];
  const Nd = mm.shape[rank - 1];
  const Kd: Dim = transA ? a.shape[rank - 2] : a.shape[rank - 1];
  const [M, N, K] = [Md, Nd, Kd].map(dimExpr) as [string, string, string];
  const batch = numel(mm.shape.slice(0, -2));
  const t = chooseTiling(Md, Nd, Kd, batch, { strided: { rows: !transA, cols: transB } });
  const [TM, TN] = [tileRows(t), tileCols(t)];

  e.line(`let tilesN = (${N} + ${TN - 1}u) / ${TN}u;`);
  e.line(`let tiles = ((${M} + ${TM - 1}u) / ${TM}u) * tilesN;`);
  e.line(`let bt = wg / tiles;`);
  e.line(`if (bt >= ${dimExpr(batch)}) { return; }`);
  e.line(`let tile = wg % tiles;`);
  e.line(`let m0 = (tile / tilesN) * ${TM}u + (lid / ${t.lanesX}u) * ${t.r}u;`);
  e.line(`let n0 = (tile % tilesN) * ${TN}u + (lid % ${t.lanesX}u) * ${t.c}u;`);
  // Rows and columns past the edge load the last one's values (in range) and are never stored.
  for (let i = 0; i < t.r; i++) e.line(`let ra${i} = bt * ${M} * ${K} + ${transA ? "" : `${K} * `}min(m0 + ${i}u, ${M} - 1u);`);
  for (let j = 0; j < t.c; j++) e.line(`let cb${j} = bt * ${K} * ${N} + ${transB ? `${K} * ` : ""}min(n0 + ${j}u, ${N} - 1u);`);
  declareAccumulators(e, t);
  reductionLoop(e, "kk", K, unrollFor(t), (kk) =>
    accumulate(
      e,
      t,
      (i) => k.operand(a, transA ? `${kk} * ${M} + ra${i}` : `ra${i} + ${kk}`),
      (j) => k.operand(b, transB ? `cb${j} + ${kk}` : `${kk} * ${N} + cb${j}`),
    ),
  );
  storeTile(
    k,
    env,
    mm,
    outputs,
    t,
    (i, j) => `m0 + ${i} < ${M} && n0 + ${j} < ${N}`,
    (i, j) => `(bt * ${M} + m0 + ${i}) * ${N} + n0 + ${j}`,
  );
  // One workgroup per tile per batch element.
  const grid = [{ size: batch, per: 1 }, { size: Md, per: TM }, { size: Nd, per: TN }];
  return k.build({ workgroupSize: LANES, grid, body: e.code() });
}
