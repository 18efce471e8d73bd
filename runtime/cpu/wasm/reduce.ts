// sum, max and argmax as WebAssembly kernels (kernel.ts), with the meaning of
// runtime/cpu/kernels/reduce.ts on f32 and i32 inputs.
//
// The shape is first cut into runs: size-1 axes dropped, adjacent axes that
// are both reduced or both kept merged, leaving alternating kept (K) and
// reduced (R) runs. The two innermost runs pick a vector kernel; the runs
// outside them are a loop nest around it:
//
// - [.., K, R], R >= 4 (rows): per output, f32x4 partials over the
//   contiguous run in 4 accumulators, the last R % 4 elements from one
//   vector ending at the row's end with its already-counted lanes masked to
//   the identity, then a horizontal fold.
// - [.., R, C], C >= 4 (columns): vectors across the kept run, up to 8 of
//   them held over the R rows; C % 4 columns come from a vector ending at
//   the row's end, stored lane by lane.
// - anything else (a run of 2 or 3 innermost): scalar, per output element.
//
// A reduced run outside the kernel (e.g. [R, K, R]) makes the kernel add into
// an output first filled with the identity. No kernel reads past the input's
// last element; only the identity fill writes the output slot's padding.
//
// f32 sums accumulate in f32 in blocks of about √n terms whose sums are then
// added: 100k-term sums were within 4e-7 of Σ|x| of the float64 sums. f32 max
// folds elements with f32x4.pmax (one x86 instruction, f32x4.max is eight)
// and keeps a mask of the lanes that saw a NaN, which then give NaN, as in
// the JS kernel; of +0 and -0 it may give +0 where the JS kernel keeps the
// first seen. i32 sums wrap; an empty i32 max is -2³¹.
//
// argmax keeps the first of equal maxima and skips NaN, except that a NaN
// first element wins (the JS loop's strict >). Contiguous rows (n >= 4) keep
// (best, index) vector states combined across lanes at the end; otherwise
// vectors run across the axes after it (>= 4 elements), else scalar.

import type { FunctionBuilder, Local } from "../../wasm/assembler.js";
import type { Slot, WasmKernelEmitter, WasmKernelTable } from "./kernel.js";

const F = 4; // bytes per element
const INT_MIN = -0x80000000;

/** A run of merged axes: all reduced or all kept. */
export interface Run {
  readonly size: number;
  readonly reduced: boolean;
}

/** The alternating kept/reduced runs of `shape` reduced over `axes` (size-1 axes dropped). */
export function canonicalRuns(shape: readonly number[], axes: readonly number[]): Run[] {
  const runs: Run[] = [];
  shape.forEach((size, i) => {
    if (size === 1) return;
    const reduced = axes.includes(i);
    const last = runs[runs.length - 1];
    if (last && last.reduced === reduced) runs[runs.length - 1] = { size: last.size * size, reduced };
    else runs.push({ size, reduced });
  });
  return runs;
}

const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

// ---- emission helpers ------------------------------------------------------------

/**
 * How sum or max folds one dtype: the vector op, its identity, whether f32
 * rounding calls for blocks, and whether elements go in through f32x4.pmax
 * and a NaN mask (f32 max: V8 lowers f32x4.max to 8 instructions, pmax to one).
 */
interface Fold {
  readonly dtype: "f32" | "i32";
  readonly identity: number;
  readonly blocked: boolean;
  readonly vop: (f: FunctionBuilder) => void;
  readonly pmax?: true;
}

const FOLDS: { readonly [K in "sum" | "max"]: { readonly [D in Slot["dtype"]]: Fold } } = {
  sum: {
    f32: { dtype: "f32", identity: 0, blocked: true, vop: (f) => f.f32x4.add() },
    i32: { dtype: "i32", identity: 0, blocked: false, vop: (f) => f.i32x4.add() },
  },
  max: {
    f32: { dtype: "f32", identity: -Infinity, blocked: false, vop: (f) => f.f32x4.max(), pmax: true },
    i32: { dtype: "i32", identity: INT_MIN, blocked: false, vop: (f) => f.i32x4.max_s() },
  },
};

function splatConst(f: FunctionBuilder, dtype: "f32" | "i32", v: number): void {
  if (dtype === "f32") f.v128.const_f32x4([v, v, v, v]);
  else f.v128.const_i32x4([v, v, v, v]);
}

/** The byte indices of an i8x16.shuffle picking 32-bit `lanes` (0-3 from a, 4-7 from b). */
function lanes(ls: readonly number[]): number[] {
  return ls.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
}

interface Acc {
  readonly v: Local;
  readonly nan: Local | undefined;
}

/** Emission state of one kernel: fresh locals and small loop helpers. */
class Emit {
  private count = 0;
  private tmp: Local | undefined;
  constructor(readonly f: FunctionBuilder) {}

  local(type: "i32" | "f32" | "v128", name: string): Local {
    return this.f.addLocal(type, `${name}${this.count++}`);
  }

  /** A fresh i32 local holding `value` (a constant or another local's value). */
  pointer(value: number | Local, name = "p"): Local {
    const p = this.local("i32", name);
    if (typeof value === "number") this.f.i32.const(value);
    else this.f.get(value);
    this.f.set(p);
    return p;
  }

  bump(p: Local, bytes: number): void {
    if (bytes === 0) return;
    this.f.get(p);
    this.f.i32.const(bytes);
    this.f.i32.add();
    this.f.set(p);
  }

  /** Runs `body` n times (a constant): straight code for 1, else a down-counting loop. */
  repeat(n: number, body: () => void): void {
    if (n <= 0) return;
    if (n === 1) return body();
    const i = this.local("i32", "n");
    this.f.i32.const(n);
    this.f.set(i);
    this.repeatCount(i, body);
  }

  /** Runs `body` `count` times, count a local holding at least 1 (it counts down to 0). */
  repeatCount(count: Local, body: () => void): void {
    const f = this.f;
    f.loop((again) => {
      body();
      f.get(count);
      f.i32.const(1);
      f.i32.sub();
      f.local.tee(count);
      f.br_if(again);
    });
  }

  /** Runs `count` steps as blocks of `block` (and a shorter last one): each block body gets its step count. */
  blocks(count: number, block: number, body: (steps: number) => void): void {
    const full = Math.floor(count / block);
    this.repeat(full, () => body(block));
    if (count % block) body(count % block);
  }

  /**
   * Loops over `dims` (outermost first) around `body`, which gets one pointer
   * per entry of `starts`; each step of dim d advances pointer j by strides[j].
   */
  nest(dims: readonly { readonly n: number; readonly strides: readonly number[] }[], starts: readonly Local[], body: (ptrs: readonly Local[]) => void): void {
    if (dims.length === 0) return body(starts);
    const dim = dims[0]!;
    const rest = dims.slice(1);
    const ptrs = starts.map((s) => this.pointer(s));
    this.repeat(dim.n, () => {
      this.nest(rest, ptrs, body);
      ptrs.forEach((p, j) => this.bump(p, dim.strides[j]!));
    });
  }

  /** local = local ∘ (the vector on the stack). */
  fold(fold: Fold, acc: Local): void {
    this.f.get(acc);
    fold.vop(this.f);
    this.f.set(acc);
  }

  /** A vector accumulator of `fold`: its value and, for pmax folds, the lanes that saw a NaN. */
  acc(fold: Fold): Acc {
    return { v: this.local("v128", "acc"), nan: fold.pmax ? this.local("v128", "nan") : undefined };
  }

  /** Sets the accumulator to the identity. */
  start(fold: Fold, a: Acc): void {
    splatConst(this.f, fold.dtype, fold.identity);
    this.f.set(a.v);
    if (a.nan) {
      this.f.v128.const_i32x4([0, 0, 0, 0]);
      this.f.set(a.nan);
    }
  }

  /** Folds the vector on the stack (elements of the input) into the accumulator. */
  add(fold: Fold, a: Acc): void {
    if (!a.nan) return this.fold(fold, a.v);
    const f = this.f;
    const t = (this.tmp ??= this.local("v128", "t"));
    f.set(t);
    f.get(t);
    f.get(t);
    f.f32x4.ne();
    f.get(a.nan);
    f.v128.or();
    f.set(a.nan);
    // pmax(acc, x) = acc < x ? x : acc: a NaN x leaves acc as it was.
    f.get(a.v);
    f.get(t);
    f.f32x4.pmax();
    f.set(a.v);
  }

  /** Leaves the accumulator's value, NaN in the lanes that saw one, in a.v. */
  settle(a: Acc): void {
    if (!a.nan) return;
    this.f.v128.const_f32x4([NaN, NaN, NaN, NaN]);
    this.f.get(a.v);
    this.f.get(a.nan);
    this.f.v128.bitselect();
    this.f.set(a.v);
  }

  /** Stores `v`'s lanes `from`..3 at `addr + offset`, each lane to its own address. */
  storeLanes(addr: Local, v: Local, offset: number, from: number): void {
    for (let l = from; l < 4; l++) {
      this.f.get(addr);
      this.f.get(v);
      this.f.v128.store32_lane(l as 0 | 1 | 2 | 3, offset + F * l);
    }
  }
}

/** Block length for f32 sums of n terms: about √n, at least `min`. */
function blockLength(n: number, min: number): number {
  return Math.max(min, 2 ** Math.round(Math.log2(Math.sqrt(n))));
}

/** Writes `identity` over the output's vectors (its slot owns them). */
function fillOutput(e: Emit, out: Slot, dtype: "f32" | "i32", identity: number): void {
  const n = product(out.shape);
  if (identity === 0) {
    e.f.i32.const(out.at);
    e.f.i32.const(0);
    e.f.i32.const(F * n);
    e.f.memory.fill();
    return;
  }
  const p = e.pointer(out.at);
  e.repeat(Math.ceil(n / 4), () => {
    e.f.get(p);
    splatConst(e.f, dtype, identity);
    e.f.v128.store();
    e.bump(p, 16);
  });
}

/** The identity-masked vector ending at `p + 4·end` with its first 4 - tail lanes replaced by the identity. */
function pushTail(e: Emit, fold: { dtype: "f32" | "i32"; identity: number }, p: Local, end: number, tail: number): void {
  splatConst(e.f, fold.dtype, fold.identity);
  e.f.get(p);
  e.f.v128.load(F * (end - 4));
  const keep = [0, 1, 2, 3].map((l) => (l < 4 - tail ? -1 : 0)) as [number, number, number, number];
  e.f.v128.const_i32x4(keep);
  e.f.v128.bitselect();
}

// ---- sum and max -------------------------------------------------------------------

/** Folds the row of R >= 4 elements at p into a vector of four partials, left in `res`. */
function emitRowPartials(e: Emit, fold: Fold, p: Local, R: number, res: Local): void {
  const f = e.f;
  const nv = R >> 2;
  const tail = R & 3;
  const U = Math.min(4, nv);
  const iters = Math.floor(nv / U);
  const extra = nv % U;
  const all = Array.from({ length: U }, () => e.acc(fold));
  const accs = all.map((a) => a.v);
  const r = e.pointer(p, "r");
  const init = (): void => all.forEach((a) => e.start(fold, a));
  const step = (): void => {
    all.forEach((a, u) => {
      f.get(r);
      f.v128.load(16 * u);
      e.add(fold, a);
    });
    e.bump(r, 16 * U);
  };
  const combine = (): void => {
    all.forEach((a) => e.settle(a));
    // (a0 ∘ a1) ∘ (a2 ∘ a3)
    const pairs = [];
    for (let u = 0; u + 1 < U; u += 2) {
      f.get(accs[u + 1]!);
      e.fold(fold, accs[u]!);
      pairs.push(accs[u]!);
    }
    if (U % 2) pairs.push(accs[U - 1]!);
    for (let i = 1; i < pairs.length; i++) {
      f.get(pairs[i]!);
      e.fold(fold, pairs[0]!);
    }
    f.get(pairs[0]!);
  };
  const finish = (): void => {
    for (let u = 0; u < extra; u++) {
      f.get(r);
      f.v128.load(16 * u);
      e.add(fold, all[u]!);
    }
    if (tail) {
      pushTail(e, fold, p, R, tail);
      e.add(fold, all[extra % U]!);
    }
  };
  const block = fold.blocked ? Math.max(1, Math.floor(blockLength(R, 256) / (4 * U))) : iters;
  if (iters <= block) {
    init();
    e.repeat(iters, step);
    finish();
    combine();
    f.set(res);
    return;
  }
  splatConst(f, fold.dtype, fold.identity);
  f.set(res);
  e.repeat(Math.floor(iters / block), () => {
    init();
    e.repeat(block, step);
    combine();
    e.fold(fold, res);
  });
  init();
  e.repeat(iters % block, step);
  finish();
  combine();
  e.fold(fold, res);
}

/**
 * [K, R] at `inP` into K outputs at `outP`, R >= 4: each row's fold, stored or
 * (`accumulate`) folded into the output. K is a constant, or a local (at least 1)
 * for a range kernel.
 */
function emitRows(e: Emit, fold: Fold, inP: Local, outP: Local, K: number | Local, R: number, accumulate: boolean): void {
  const f = e.f;
  const p = e.pointer(inP);
  const q = e.pointer(outP, "q");
  const v = e.local("v128", "v");
  (typeof K === "number" ? e.repeat.bind(e, K) : e.repeatCount.bind(e, K))(() => {
    emitRowPartials(e, fold, p, R, v);
    for (const ls of [[2, 3, 0, 1], [1, 0, 3, 2]]) {
      f.get(v);
      f.get(v);
      f.shuffle(lanes(ls));
      e.fold(fold, v);
    }
    if (accumulate) {
      f.get(q);
      f.v128.load32_splat();
      e.fold(fold, v);
    }
    f.get(q);
    f.get(v);
    f.v128.store32_lane(0);
    e.bump(p, F * R);
    e.bump(q, F);
  });
}

/**
 * Byte offsets of the vectors spanning C >= 4 columns, in chunks of up to `G`: `full`
 * chunks of G (the same offsets 0, 16, .. from a pointer that advances 16G per chunk),
 * then `last` (offsets from the row's start) whose final vector ends at column C and
 * is partial (its first 4 - tail lanes belong to an earlier vector) when tail > 0.
 */
function columnChunks(C: number, G: number): { full: number; last: number[]; tail: number } {
  const nv = C >> 2;
  const full = Math.floor(nv / G);
  const last = Array.from({ length: nv % G }, (_, j) => 16 * (full * G + j));
  const tail = C & 3;
  if (tail) last.push(F * (C - 4));
  return { full, last, tail };
}

/** Runs `chunk` over C's column vectors from row pointer `inP` and output pointer `outP` (columnChunks). */
function emitChunks(e: Emit, inP: Local, outP: Local, C: number, G: number, chunk: (inP: Local, outP: Local, offsets: readonly number[], tail: number) => void): void {
  const { full, last, tail } = columnChunks(C, G);
  const ci = e.pointer(inP, "ci");
  const co = e.pointer(outP, "co");
  const offsets = Array.from({ length: G }, (_, j) => 16 * j);
  e.repeat(full, () => {
    chunk(ci, co, offsets, 0);
    e.bump(ci, 16 * G);
    e.bump(co, 16 * G);
  });
  if (last.length) chunk(inP, outP, last, tail);
}

/** [R, C] at `inP` into C outputs at `outP`, C >= 4: vectors across C, folded over the R rows. */
function emitColumns(e: Emit, fold: Fold, inP: Local, outP: Local, R: number, C: number, accumulate: boolean): void {
  const f = e.f;
  // With NaN masks, 4 vectors at a time keep the accumulators in 16 registers.
  emitChunks(e, inP, outP, C, fold.pmax ? 4 : 8, (base, out, offsets, tail) => {
    const all = offsets.map(() => e.acc(fold));
    const r = e.pointer(base, "r");
    const block = (rows: number, add: boolean): void => {
      all.forEach((a) => e.start(fold, a));
      e.repeat(rows, () => {
        all.forEach((a, j) => {
          f.get(r);
          f.v128.load(offsets[j]!);
          e.add(fold, a);
        });
        e.bump(r, F * C);
      });
      all.forEach((acc, j) => {
        e.settle(acc);
        const a = acc.v;
        if (add) {
          f.get(out);
          f.v128.load(offsets[j]!);
          e.fold(fold, a);
        }
        if (tail && j === all.length - 1) e.storeLanes(out, a, offsets[j]!, 4 - tail);
        else {
          f.get(out);
          f.get(a);
          f.v128.store(offsets[j]!);
        }
      });
    };
    const rows = fold.blocked ? blockLength(R, 16) : R;
    const first = Math.min(rows, R);
    block(first, accumulate);
    e.blocks(R - first, rows, (n) => block(n, true));
  });
}

/** Any pattern, scalar: per output element, its reduced elements folded in a local (f32 sums in blocks along the innermost reduced run). */
function emitScalar(e: Emit, fold: Fold, kind: "sum" | "max", x: Slot, out: Slot, runs: readonly Run[]): void {
  const f = e.f;
  const inStrides = runs.map((_, i) => F * product(runs.slice(i + 1).map((r) => r.size)));
  const kept = runs.flatMap((r, i) => (r.reduced ? [] : [{ n: r.size, strides: [inStrides[i]!, F * product(runs.slice(i + 1).filter((s) => !s.reduced).map((s) => s.size))] }]));
  const reduced = runs.flatMap((r, i) => (r.reduced ? [{ n: r.size, strides: [inStrides[i]!] }] : []));
  const inner = reduced[reduced.length - 1]!;
  const t = fold.dtype;
  const total = e.local(t, "total");
  const acc = e.local(t, "acc");
  const v = e.local(t, "x");
  const load = (p: Local): void => (f.get(p), t === "f32" ? f.f32.load() : f.i32.load());
  const identity = (): void => (t === "f32" ? f.f32.const(fold.identity) : f.i32.const(fold.identity));
  /** dst = dst ∘ src. */
  const op = (dst: Local, src: Local): void => {
    f.get(dst);
    f.get(src);
    if (kind === "sum") t === "f32" ? f.f32.add() : f.i32.add();
    else if (t === "f32") f.f32.max();
    else {
      f.get(dst);
      f.get(src);
      f.i32.gt_s();
      f.select("i32");
    }
    f.set(dst);
  };
  e.nest(kept, [e.pointer(x.at), e.pointer(out.at, "q")], ([p, q]) => {
    identity();
    f.set(total);
    e.nest(reduced.slice(0, -1), [p!], ([r]) => {
      const s = e.pointer(r!, "s");
      e.blocks(inner.n, fold.blocked ? blockLength(inner.n, 16) : inner.n, (n) => {
        identity();
        f.set(acc);
        e.repeat(n, () => {
          load(s);
          f.set(v);
          op(acc, v);
          e.bump(s, inner.strides[0]!);
        });
        op(total, acc);
      });
    });
    f.get(q!);
    f.get(total);
    t === "f32" ? f.f32.store() : f.i32.store();
  });
}

function reduceKernel(kind: "sum" | "max"): WasmKernelEmitter<"sum" | "max"> {
  return (f, out, [x], { axes }) => {
    const e = new Emit(f);
    const fold = FOLDS[kind][x!.dtype];
    if (product(out.shape) === 0) return;
    if (product(x!.shape) === 0) return fillOutput(e, out, fold.dtype, fold.identity);
    const runs = canonicalRuns(x!.shape, axes);
    if (!runs.some((r) => r.reduced)) {
      f.i32.const(out.at);
      f.i32.const(x!.at);
      f.i32.const(F * product(out.shape));
      f.memory.copy();
      return;
    }
    const last = runs[runs.length - 1]!;
    const rows = last.reduced && last.size >= 4;
    const columns = !last.reduced && last.size >= 4;
    if (!rows && !columns) return emitScalar(e, fold, kind, x!, out, runs);
    // The runs the kernel covers: [K, R] for rows (K may be absent), [R, C] for columns.
    const covered = rows && runs.length >= 2 ? 2 : rows ? 1 : 2;
    const outer = runs.slice(0, runs.length - covered);
    const accumulate = outer.some((r) => r.reduced);
    if (accumulate) fillOutput(e, out, fold.dtype, fold.identity);
    const dims = outer.map((r, i) => {
      const after = runs.slice(i + 1);
      const inStride = F * product(after.map((s) => s.size));
      const outStride = r.reduced ? 0 : F * product(after.filter((s) => !s.reduced).map((s) => s.size));
      return { n: r.size, strides: [inStride, outStride] };
    });
    e.nest(dims, [e.pointer(x!.at), e.pointer(out.at, "q")], ([p, q]) => {
      if (rows) emitRows(e, fold, p!, q!, covered === 2 ? runs[runs.length - 2]!.size : 1, last.size, accumulate);
      else emitColumns(e, fold, p!, q!, runs[runs.length - 2]!.size, last.size, accumulate);
    });
  };
}

// ---- argmax ------------------------------------------------------------------------

/** The vector ops of an argmax over f32 or i32 values. */
function argOps(f: FunctionBuilder, dtype: "f32" | "i32") {
  return dtype === "f32" ? { gt: () => f.f32x4.gt(), eq: () => f.f32x4.eq() } : { gt: () => f.i32x4.gt_s(), eq: () => f.i32x4.eq() };
}

/** best, at = v, idx where v > best (lane-wise); v and idx are pushed by the callbacks. */
function emitArgStep(e: Emit, dtype: "f32" | "i32", best: Local, at: Local, v: Local, m: Local, pushIdx: () => void): void {
  const f = e.f;
  const ops = argOps(f, dtype);
  f.get(v);
  f.get(best);
  ops.gt();
  f.set(m);
  f.get(v);
  f.get(best);
  f.get(m);
  f.v128.bitselect();
  f.set(best);
  pushIdx();
  f.get(at);
  f.get(m);
  f.v128.bitselect();
  f.set(at);
}

/** Combines (b, bAt) into (a, aAt): b wins where greater, or equal at a lower index (no NaN here). */
function emitArgCombine(e: Emit, dtype: "f32" | "i32", a: Local, aAt: Local, b: Local, bAt: Local, m: Local): void {
  const f = e.f;
  const ops = argOps(f, dtype);
  f.get(b);
  f.get(a);
  ops.gt();
  f.get(b);
  f.get(a);
  ops.eq();
  f.get(bAt);
  f.get(aAt);
  f.i32x4.lt_s();
  f.v128.and();
  f.v128.or();
  f.set(m);
  for (const [dst, src] of [[a, b], [aAt, bAt]] as const) {
    f.get(src);
    f.get(dst);
    f.get(m);
    f.v128.bitselect();
    f.set(dst);
  }
}

/**
 * Contiguous rows of n >= 4: two (best, at) vector states over alternate
 * vectors, started at the identity and index 0 (a lane left there only
 * matters when every element is -∞ or NaN, where the answer is 0), the
 * partial last vector masked, then combined across states and lanes.
 */
function emitArgRows(e: Emit, dtype: "f32" | "i32", x: Slot, out: Slot, A: number, n: number): void {
  const f = e.f;
  const lowest = dtype === "f32" ? -Infinity : INT_MIN;
  const nv = n >> 2;
  const tail = n & 3;
  const S = Math.min(2, nv);
  const best = Array.from({ length: S }, () => e.local("v128", "best"));
  const at = Array.from({ length: S }, () => e.local("v128", "at"));
  const idx = Array.from({ length: S }, () => e.local("v128", "idx"));
  const v = e.local("v128", "v");
  const m = e.local("v128", "m");
  const p = e.pointer(x.at);
  const q = e.pointer(out.at, "q");
  const r = e.local("i32", "r");
  e.repeat(A, () => {
    f.get(p);
    f.set(r);
    for (let s = 0; s < S; s++) {
      splatConst(f, dtype, lowest);
      f.set(best[s]!);
      f.v128.const_i32x4([0, 0, 0, 0]);
      f.set(at[s]!);
      f.v128.const_i32x4([4 * s, 4 * s + 1, 4 * s + 2, 4 * s + 3]);
      f.set(idx[s]!);
    }
    const step = (s: number, offset: number): void => {
      f.get(r);
      f.v128.load(offset);
      f.set(v);
      emitArgStep(e, dtype, best[s]!, at[s]!, v, m, () => f.get(idx[s]!));
      f.get(idx[s]!);
      f.v128.const_i32x4([4 * S, 4 * S, 4 * S, 4 * S]);
      f.i32x4.add();
      f.set(idx[s]!);
    };
    e.repeat(Math.floor(nv / S), () => {
      for (let s = 0; s < S; s++) step(s, 16 * s);
      e.bump(r, 16 * S);
    });
    if (nv % S) step(0, 0);
    if (tail) {
      pushTail(e, { dtype, identity: lowest }, p, n, tail);
      f.set(v);
      emitArgStep(e, dtype, best[0]!, at[0]!, v, m, () => f.v128.const_i32x4([n - 4, n - 3, n - 2, n - 1]));
    }
    if (S === 2) emitArgCombine(e, dtype, best[0]!, at[0]!, best[1]!, at[1]!, m);
    for (const ls of [[2, 3, 0, 1], [1, 0, 3, 2]]) {
      for (const [dst, src] of [[best[1] ?? v, best[0]!], [at[1] ?? idx[0]!, at[0]!]] as const) {
        f.get(src);
        f.get(src);
        f.shuffle(lanes(ls));
        f.set(dst);
      }
      emitArgCombine(e, dtype, best[0]!, at[0]!, best[1] ?? v, at[1] ?? idx[0]!, m);
    }
    f.get(q);
    f.get(at[0]!);
    f.i32x4.extract_lane(0);
    if (dtype === "f32") {
      // A NaN first element is never beaten: the answer is 0.
      f.i32.const(0);
      f.get(p);
      f.f32.load();
      f.get(p);
      f.f32.load();
      f.f32.eq();
      f.select("i32");
    }
    f.i32.store();
    e.bump(p, F * n);
    e.bump(q, F);
  });
}

/** [A, n, B] with B >= 4: vectors across B, each lane's best and its index over the n rows. */
function emitArgColumns(e: Emit, dtype: "f32" | "i32", x: Slot, out: Slot, A: number, n: number, B: number): void {
  const f = e.f;
  const dims = [{ n: A, strides: [F * n * B, F * B] }];
  e.nest(dims, [e.pointer(x.at), e.pointer(out.at, "q")], ([p, q]) => {
    emitChunks(e, p!, q!, B, 4, (base, o, offsets) => {
      // The partial last vector recomputes whole lanes of an earlier one: storing them again is harmless.
      const best = offsets.map(() => e.local("v128", "best"));
      const at = offsets.map(() => e.local("v128", "at"));
      const k = e.local("v128", "k");
      const v = e.local("v128", "v");
      const m = e.local("v128", "m");
      const r = e.pointer(base, "r");
      offsets.forEach((off, j) => {
        f.get(r);
        f.v128.load(off);
        f.set(best[j]!);
        f.v128.const_i32x4([0, 0, 0, 0]);
        f.set(at[j]!);
      });
      f.v128.const_i32x4([1, 1, 1, 1]);
      f.set(k);
      e.repeat(n - 1, () => {
        e.bump(r, F * B);
        offsets.forEach((off, j) => {
          f.get(r);
          f.v128.load(off);
          f.set(v);
          emitArgStep(e, dtype, best[j]!, at[j]!, v, m, () => f.get(k));
        });
        f.get(k);
        f.v128.const_i32x4([1, 1, 1, 1]);
        f.i32x4.add();
        f.set(k);
      });
      offsets.forEach((off, j) => {
        f.get(o);
        f.get(at[j]!);
        f.v128.store(off);
      });
    });
  });
}

/** Any [A, n, B], scalar: the JS loop. */
function emitArgScalar(e: Emit, dtype: "f32" | "i32", x: Slot, out: Slot, A: number, n: number, B: number): void {
  const f = e.f;
  const best = e.local(dtype, "best");
  const v = e.local(dtype, "v");
  const at = e.local("i32", "at");
  const k = e.local("i32", "k");
  const load = (): void => (dtype === "f32" ? f.f32.load() : f.i32.load());
  const dims = [
    { n: A, strides: [F * n * B, F * B] },
    { n: B, strides: [F, F] },
  ];
  e.nest(dims, [e.pointer(x.at), e.pointer(out.at, "q")], ([p, q]) => {
    const r = e.pointer(p!, "r");
    f.get(r);
    load();
    f.set(best);
    f.i32.const(0);
    f.set(at);
    f.i32.const(0);
    f.set(k);
    e.repeat(n - 1, () => {
      e.bump(r, F * B);
      e.bump(k, 1);
      f.get(r);
      load();
      f.set(v);
      for (const [dst, src, type] of [[at, k, "i32"], [best, v, dtype]] as const) {
        f.get(src);
        f.get(dst);
        f.get(v);
        f.get(best);
        dtype === "f32" ? f.f32.gt() : f.i32.gt_s();
        f.select(type);
        f.set(dst);
      }
    });
    f.get(q!);
    f.get(at);
    f.i32.store();
  });
}

const argmax: WasmKernelEmitter<"argmax"> = (f, out, [x], { axis }) => {
  const e = new Emit(f);
  const shape = x!.shape;
  const n = shape[axis]!;
  const A = product(shape.slice(0, axis));
  const B = product(shape.slice(axis + 1));
  if (A * B === 0) return;
  if (n <= 1) return fillOutput(e, out, "i32", 0);
  if (B === 1 && n >= 4) emitArgRows(e, x!.dtype, x!, out, A, n);
  else if (B >= 4) emitArgColumns(e, x!.dtype, x!, out, A, n, B);
  else emitArgScalar(e, x!.dtype, x!, out, A, n, B);
};

/** Rows and row length of a sum or max over the trailing axes of x (at least 4 elements): what a row kernel computes, else undefined. */
export function rowReduction(shape: readonly number[], axes: readonly number[]): { readonly rows: number; readonly width: number } | undefined {
  const runs = canonicalRuns(shape, axes);
  const last = runs[runs.length - 1];
  if (!last?.reduced || last.size < 4 || runs.length > 2) return undefined;
  return { rows: runs.length === 2 ? runs[0]!.size : 1, width: last.size };
}

/**
 * The range form of a row reduction (rowReduction's shapes): a function of
 * (lo, hi) computing outputs [lo, hi), row by row as the whole kernel does, so
 * that threads and row blocks (rows.ts) give its results bit for bit.
 */
export function rowsKernel(kind: "sum" | "max", out: Slot, x: Slot, width: number): (f: FunctionBuilder) => void {
  return (f) => {
    const [lo, hi] = f.params as [Local, Local];
    const e = new Emit(f);
    const fold = FOLDS[kind][x.dtype];
    const inP = e.local("i32", "in");
    const outP = e.local("i32", "out");
    const count = e.local("i32", "count");
    for (const [dst, base, stride] of [[inP, x.at, F * width], [outP, out.at, F]] as const) {
      f.get(lo);
      f.i32.const(stride);
      f.i32.mul();
      f.i32.const(base);
      f.i32.add();
      f.set(dst);
    }
    f.get(hi);
    f.get(lo);
    f.i32.sub();
    f.local.tee(count);
    f.i32.const(1);
    f.i32.lt_s();
    f.if(() => f.return());
    emitRows(e, fold, inP, outP, count, width, false);
  };
}

export const WASM_REDUCE: WasmKernelTable<"sum" | "max" | "argmax"> = {
  sum: reduceKernel("sum"),
  max: reduceKernel("max"),
  argmax,
};
