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

import { numel, type Dim } from "../../../runtime/program/dim.js";
import type { GpuKernel } from "../../../runtime/program/gpu.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import type { Emitter } from "./expr.js";
import { dimExpr } from "./index-math.js";
import { KernelBuilder, type KernelEnv } from "./kernel.js";

/** Invocations per workgroup: one 8-wide SIMD row on llvmpipe. */
export const LANES = 8;

/**
 * Each invocation accumulates r rows x c columns of the result; a workgroup's tile is lanesX x lanesY
 * such blocks, and its remaining `slices` lanes (LANES / (lanesX * lanesY)) split the reduction.
 */
export interface Tiling {
  readonly r: number;
  readonly c: number;
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
/** The size assumed for a symbolic dimension (a batch) when choosing tiles. */
const NOMINAL_SYMBOL = 128;
const SIZES = [1, 2, 3, 4, 6, 8, 12, 16];
const MAX_ACCUMULATORS = 128;
/** Strided rows at least this long (elements) each stream through the caches on their own... */
const LONG_ROW = 256;
/** ...and more than this many such streams per workgroup run about 1.5 times slower. */
const MAX_STREAMS = 24;
const STREAM_PENALTY = 1.5;

export function nominal(d: Dim): number {
  if (typeof d === "number") return d;
  return d.split("*").reduce((acc, p) => acc * (/^\d+$/.test(p) ? Number(p) : NOMINAL_SYMBOL), 1);
}

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

export const acc = (i: number, j: number) => `acc${i}_${j}`;

export function declareAccumulators(e: Emitter, t: Tiling): void {
  for (let i = 0; i < t.r; i++) e.line(Array.from({ length: t.c }, (_, j) => `var ${acc(i, j)} = 0.0;`).join(" "));
}

/** One step of the reduction: r values of the left operand and c of the right, then r*c multiply-adds. */
export function accumulate(e: Emitter, t: Tiling, a: (i: number) => string, b: (j: number) => string): void {
  e.block("", () => {
    for (let i = 0; i < t.r; i++) e.line(`let lhs${i} = ${a(i)};`);
    for (let j = 0; j < t.c; j++) e.line(`let rhs${j} = ${b(j)};`);
    for (let i = 0; i < t.r; i++) e.line(Array.from({ length: t.c }, (_, j) => `${acc(i, j)} = fma(lhs${i}, rhs${j}, ${acc(i, j)});`).join(" "));
  });
}

/** Reduction steps unrolled per loop iteration: small tiles spend more of each iteration on the loop itself. */
export function unrollFor(t: Tiling): number {
  return t.r + t.c >= 12 ? 1 : t.r + t.c >= 6 ? 2 : 4;
}

/**
 * Emits `for (k over [0, count))` calling `step(k)` for each index, `unroll` steps per
 * iteration and the remainder one at a time (count is a u32 WGSL expression).
 */
export function reductionLoop(e: Emitter, k: string, count: string, unroll: number, step: (k: string) => void): void {
  if (unroll === 1) {
    e.block(`for (var ${k} = 0u; ${k} < ${count}; ${k} = ${k} + 1u)`, () => step(k));
    return;
  }
  e.line(`var ${k} = 0u;`);
  e.block(`for (; ${k} + ${unroll}u <= ${count}; ${k} = ${k} + ${unroll}u)`, () => {
    for (let u = 0; u < unroll; u++) step(u === 0 ? k : `(${k} + ${u}u)`);
  });
  e.block(`for (; ${k} < ${count}; ${k} = ${k} + 1u)`, () => step(k));
}

/**
 * The epilogue of an r x c tile: for each element inside the result, binds the anchor's value at
 * its flat index and stores every output there. `valid`, `index` and `value` get the element's
 * row and column in the tile as u32 WGSL expressions; the value defaults to the accumulator,
 * read from a copy of the tile in a private array. The epilogue is emitted once, in a loop over
 * the tile: llvmpipe compiles a kernel at its first dispatch, in time that grows quickly with
 * its length, and the epilogue runs once per element against the reduction's many steps.
 * Values of one element (the optimizer's step and learning rate, their powers) are computed
 * once, before the loop.
 */
export function storeTile(
  k: KernelBuilder,
  env: KernelEnv,
  anchor: Node,
  outputs: readonly Node[],
  t: { readonly r: number; readonly c: number },
  valid: (i: string, j: string) => string,
  index: (i: string, j: string) => string,
  value?: (i: string, j: string) => string,
): void {
  const e = k.emitter;
  for (const n of scalarsOf(env, anchor, outputs)) e.value(n, "0u");
  const size = t.r * t.c;
  const one = (i: string, j: string, v: string) =>
    e.block(`if (${valid(i, j)})`, () => {
      e.line(`let el = ${index(i, j)};`);
      e.line(`let out = ${v};`);
      k.setLocal(anchor, "el", "out");
      for (const o of outputs) if (o !== anchor) k.store(o, "el");
      if (outputs.includes(anchor)) e.line(`${k.writeBuffer(anchor)}[el] = out;`);
    });
  if (size === 1) {
    one("0u", "0u", value ? value("0u", "0u") : acc(0, 0));
    return;
  }
  if (!value) {
    e.line(`var tileAcc: array<f32, ${size}>;`);
    for (let i = 0; i < t.r; i++) e.line(Array.from({ length: t.c }, (_, j) => `tileAcc[${i * t.c + j}] = ${acc(i, j)};`).join(" "));
  }
  e.block(`for (var te = 0u; te < ${size}u; te = te + 1u)`, () => {
    e.line(`let ti = te / ${t.c}u; let tj = te % ${t.c}u;`);
    one("ti", "tj", value ? value("ti", "tj") : "tileAcc[te]");
  });
}

/** The one-element values an epilogue reads that do not depend on the anchor, in topological order. */
function scalarsOf(env: KernelEnv, anchor: Node, outputs: readonly Node[]): Node[] {
  const found: Node[] = [];
  const depends = new Map<Node, boolean>();
  // A depth-first walk with an explicit stack (an epilogue can be thousands of operations deep).
  const enter = (n: Node) => {
    const buffer = env.bufferOf(n);
    const leaf = buffer !== undefined && buffer !== anchor && !outputs.includes(buffer);
    return { n, inputs: n.inputs[Symbol.iterator](), walk: !leaf && n !== anchor, d: n === anchor };
  };
  for (const o of outputs) {
    if (depends.has(o)) continue;
    const stack = [enter(o)];
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const next = top.walk ? top.inputs.next() : undefined;
      if (next && !next.done) {
        const known = depends.get(next.value);
        if (known !== undefined) top.d = known || top.d;
        else stack.push(enter(next.value));
        continue;
      }
      stack.pop();
      depends.set(top.n, top.d);
      if (!top.d && numel(top.n.shape) === 1 && !outputs.includes(top.n)) found.push(top.n);
      const parent = stack.at(-1);
      if (parent) parent.d ||= top.d;
    }
  }
  return found;
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
