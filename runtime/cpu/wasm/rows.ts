// Row chains: consecutive steps of a plan that touch their tensors one row at
// a time, run together block of rows by block of rows, and split by rows
// across threads.
//
// softmax over [4096, 1024] is five steps (max, a reshape, exp(x - max), sum,
// the division), each a pass over 16 MB when run one after the other. But every
// one of them reads and writes row r only where it computes row r: a row
// reduction reads its row, an elementwise step reads its own elements or a
// per-row value broadcast along the row. Run as a chain, a block of rows goes
// through all five steps while it is in cache, and only the chain's inputs
// and outputs cross the memory bus; and since rows never meet, threads take
// whole ranges of rows and compute what one thread would, bit for bit.
//
// A chain starts at a row reduction (a sum or max over trailing axes, which
// fixes the number of rows R), or at an elementwise step, whose elements are
// then its rows (until a reduction, only steps of its size join it: a scalar
// step must not make a big one a single row). A row reduction over whole groups of a chain's rows regroups
// them (row-local stays row-local in coarser rows: GELU before a layer norm,
// a residual sum before its softmax). A chain takes each following step that
// - computes an elementwise group whose size is a multiple of R (w elements
//   per row), or is another row reduction over R rows, and
// - reads what earlier steps of the chain wrote only row-locally: its own
//   elements (same w), a per-row value broadcast along the row, or, for a
//   reduction, rows of the width it reduces;
// - and writes no buffer into the cell of one the chain reads from outside
//   it other than row by row at the same width. (The memory plan reuses
//   cells: an output may take that of an input whose last reader is in the
//   chain. Where every read of that input is row-local at the output's width,
//   a block overwrites only rows the chain has finished reading, as in the
//   softmax of a value nothing else reads; a bias broadcast across rows would
//   be read again by the next block.)
// Aliases (reshapes) in between are transparent. An elementwise step that
// chains with nothing stays a solo step, split across threads by elements.
//
// The planning is pure, over plain data; emitChain writes a chain's function,
// which calls its members' range kernels block by block.

import type { FunctionBuilder, Local } from "../../wasm/assembler.js";

/** How a step reads one buffer, in its own element space. */
export type Access =
  /** element i of the step reads element i */
  | { readonly kind: "flat" }
  /** element (r, c) of a [rows, width] space reads element r */
  | { readonly kind: "rows"; readonly rows: number; readonly width: number }
  /** anything else (a transpose, slice, pad, a random draw's key, a broadcast across rows) */
  | { readonly kind: "other" };

export interface Read {
  /** The buffer's node (aliases resolved to the node that owns the buffer). */
  readonly buffer: number;
  readonly access: Access;
}

/** A step that can run on a range: an elementwise group (elements [lo, hi)) or a row reduction (rows [lo, hi)). */
export interface RangeStep {
  /** The step's output node: the buffer it writes. */
  readonly node: number;
  /** Elements of the output. */
  readonly size: number;
  /** A row reduction: its rows and the row length it reduces. */
  readonly reduce?: { readonly rows: number; readonly width: number };
  readonly reads: readonly Read[];
}

/** A chain of steps over `rows` rows; each member computes `width` output elements per row (1 for a reduction). */
export interface RowChain {
  readonly rows: number;
  readonly members: readonly { readonly step: number; readonly width: number }[];
  /** Row boundaries must be multiples of this: every elementwise member's range then starts on a whole vector. */
  readonly unit: number;
  /** Bytes each row reads and writes across the members: what a block of rows keeps in cache. */
  readonly rowBytes: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

/**
 * Groups `steps` (in program order; undefined for a step that breaks chains,
 * such as a product or a JavaScript kernel) into row chains. `cellOf(node)`
 * is the storage cell a buffer lives in (equal cells share memory). Returns
 * the chains, each of at least one member, and leaves every other step solo.
 */
export function rowChains(steps: readonly (RangeStep | undefined)[], cellOf: (node: number) => number | undefined): RowChain[] {
  const chains: RowChain[] = [];
  /** An open chain: its members, the row width of each buffer it wrote, how it reads each outside cell (a row width, or "other"), and the cells it wrote. */
  /** (`flat`: started at an elementwise step, no reduction yet: its rows are elements, and only steps of that size join.) */
  let open: { rows: number; flat: boolean; members: { step: number; width: number }[]; widths: Map<number, number>; outside: Map<number, number | "other">; writtenCells: Set<number>; rowBytes: number } | undefined;

  const close = (): void => {
    if (!open) return;
    if (open.members.length === 1 && !steps[open.members[0]!.step]!.reduce) return void (open = undefined);
    const unit = open.members.reduce((u, m) => (steps[m.step]!.reduce ? u : lcm(u, 4 / gcd(m.width, 4))), 1);
    chains.push({ rows: open.rows, members: open.members, unit, rowBytes: open.rowBytes });
    open = undefined;
  };

  /** Whether `s` (computing `width` per row) reads the chain's buffers row-locally, and how it reads outside cells. */
  const fits = (s: RangeStep, width: number): Map<number, number | "other"> | undefined => {
    const o = open!;
    const outside = new Map(o.outside);
    for (const r of s.reads) {
      const a = r.access;
      // The row width this read walks, where it is row-local.
      const local = s.reduce ? (a.kind === "flat" ? s.reduce.width : undefined) : a.kind === "flat" ? width : a.kind === "rows" && a.rows === o.rows && a.width === width ? 1 : undefined;
      const produced = o.widths.get(r.buffer);
      if (produced !== undefined) {
        if (local !== produced) return undefined;
        continue;
      }
      const cell = cellOf(r.buffer);
      if (cell === undefined) continue;
      if (o.writtenCells.has(cell)) return undefined;
      const seen = outside.get(cell);
      outside.set(cell, local === undefined || (seen !== undefined && seen !== local) ? "other" : local);
    }
    const cell = cellOf(s.node);
    if (cell !== undefined && outside.has(cell) && outside.get(cell) !== width) return undefined;
    return outside;
  };

  const start = (s: RangeStep, k: number): void => {
    open = { rows: s.reduce ? s.reduce.rows : s.size, flat: !s.reduce, members: [], widths: new Map(), outside: new Map(), writtenCells: new Set(), rowBytes: 0 };
    add(s, k, 1, fits(s, 1) ?? new Map());
  };

  /**
   * The chain regrouped into rows of `w` of its rows, for a row reduction over
   * them: what was row-local stays so in coarser rows.
   */
  const rebase = (w: number): void => {
    const o = open!;
    const scale = <K>(m: Map<K, number | "other">): Map<K, number | "other"> => new Map([...m].map(([k, v]) => [k, v === "other" ? v : v * w]));
    open = { ...o, rows: o.rows / w, flat: false, members: o.members.map((m) => ({ ...m, width: m.width * w })), widths: scale(o.widths) as Map<number, number>, outside: scale(o.outside), rowBytes: o.rowBytes * w };
  };

  const add = (s: RangeStep, k: number, width: number, outside: Map<number, number | "other">): void => {
    const o = open!;
    o.members.push({ step: k, width });
    o.widths.set(s.node, width);
    o.outside = outside;
    const cell = cellOf(s.node);
    if (cell !== undefined) o.writtenCells.add(cell);
    o.rowBytes += 4 * (width + (s.reduce ? s.reduce.width : width * s.reads.length));
  };

  steps.forEach((s, k) => {
    if (!s) return close();
    if (open && s.reduce && open.rows > s.reduce.rows && open.rows % s.reduce.rows === 0) rebase(open.rows / s.reduce.rows);
    if (open) {
      const width = s.reduce ? (s.reduce.rows === open.rows ? 1 : undefined) : s.size % open.rows === 0 && s.size > 0 && !(open.flat && s.size !== open.rows) ? s.size / open.rows : undefined;
      const outside = width !== undefined ? fits(s, width) : undefined;
      if (width !== undefined && outside) return add(s, k, width, outside);
      close();
    }
    start(s, k);
  });
  close();
  return chains;
}

/** Rows per block: what keeps a block's rows of every member in about `cacheBytes`, a multiple of the chain's unit. */
export function blockRows(chain: RowChain, cacheBytes = 128 << 10): number {
  const fit = Math.max(1, Math.floor(cacheBytes / Math.max(1, chain.rowBytes)));
  return Math.max(chain.unit, Math.floor(fit / chain.unit) * chain.unit);
}

/** [lo, hi) ranges of `total` units split into `parts` near-equal pieces at multiples of `unit` (fewer where it is small). */
export function splitRange(total: number, unit: number, parts: number): [number, number][] {
  const units = Math.ceil(total / unit);
  const n = Math.max(1, Math.min(parts, units));
  const out: [number, number][] = [];
  for (let t = 0; t < n; t++) {
    const lo = Math.min(total, Math.floor((units * t) / n) * unit);
    const hi = Math.min(total, Math.floor((units * (t + 1)) / n) * unit);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

/**
 * The body of a chain's function of (lo, hi), rows: for each block of `block`
 * rows, each member's range kernel on the block's elements, [b·w, e·w) for a
 * member of width w (rows themselves for a reduction, whose width is 1).
 */
export function emitChain(f: FunctionBuilder, members: readonly { readonly name: string; readonly width: number }[], block: number, indexOf: (name: string) => number): void {
  const [lo, hi] = f.params as [Local, Local];
  const b = f.addLocal("i32", "b");
  const e = f.addLocal("i32", "e");
  const times = (x: Local, w: number): void => {
    f.get(x);
    if (w === 1) return;
    f.i32.const(w);
    f.i32.mul();
  };
  f.get(lo);
  f.get(hi);
  f.i32.ge_s();
  f.if(() => f.return());
  f.get(lo);
  f.set(b);
  f.loop((again) => {
    // e = min(b + block, hi)
    f.get(b);
    f.i32.const(block);
    f.i32.add();
    f.local.tee(e);
    f.get(hi);
    f.i32.gt_s();
    f.if(() => {
      f.get(hi);
      f.set(e);
    });
    for (const m of members) {
      times(b, m.width);
      times(e, m.width);
      f.call(indexOf(m.name), ["i32", "i32"], []);
    }
    f.get(e);
    f.local.tee(b);
    f.get(hi);
    f.i32.lt_s();
    f.br_if(again);
  });
}
