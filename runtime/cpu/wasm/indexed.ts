// gather, scatterAdd and cumsum as WebAssembly kernels (kernel.ts), with the
// meaning of runtime/cpu/kernels/gather.ts and scan.ts bit for bit:
//
// - gather over the table's [outer, n, inner] blocks: each index, clamped to
//   [0, n - 1], copies its row of `inner` elements with memory.copy.
// - scatterAdd, its transpose (f32 only, by its type rule): each index's row
//   of updates is added into the output row it names, in index order, in
//   float64 sums over the whole output in the plan's scratch (8 bytes an
//   element), pairs of elements at a time, rounded once at the end.
// - cumsum over [outer, n, inner] lines: a running sum per line, from the end
//   when reversed, exclusive scans storing the sum before adding. f32 sums run
//   in float64 (lane 0 of an f64x2) and each stored value is rounded once, as
//   the JavaScript kernel's float64 sum stored into a Float32Array is; i32
//   sums wrap, as the JavaScript sum of at most 2^53 stored into an Int32Array does.

import type { FunctionBuilder, Local } from "../../wasm/assembler.js";
import { forRange } from "../../wasm/loops.js";
import type { Slot, WasmKernelTable, WasmScratch } from "./kernel.js";

const F = 4; // bytes per element
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** [outer, n, inner] of `shape` around `axis`. */
function blocks(shape: readonly number[], axis: number): [number, number, number] {
  return [size(shape.slice(0, axis)), shape[axis]!, size(shape.slice(axis + 1))];
}

/** Pushes i32 `x` clamped to [0, n - 1]. */
function clampIndex(f: FunctionBuilder, x: Local, n: number): void {
  // max(x, 0) then min(that, n - 1), with selects
  f.get(x);
  f.i32.const(0);
  f.get(x);
  f.i32.const(0);
  f.i32.gt_s();
  f.select("i32");
  f.local.tee(x);
  f.i32.const(n - 1);
  f.get(x);
  f.i32.const(n - 1);
  f.i32.lt_s();
  f.select("i32");
}

/** Pushes o n + clamp(indices[k]): the row of the [outer, n, inner] blocks that index k names in block o (`idx` is scratch). */
function indexedRow(f: FunctionBuilder, o: Local, k: Local, idx: Local, indices: Slot, n: number): void {
  f.get(k);
  f.i32.const(F);
  f.i32.mul();
  f.i32.load(indices.at);
  f.set(idx);
  f.get(o);
  f.i32.const(n);
  f.i32.mul();
  clampIndex(f, idx, n);
  f.i32.add();
}

function emitGather(f: FunctionBuilder, out: Slot, table: Slot, indices: Slot, axis: number): void {
  const [outer, n, inner] = blocks(table.shape, axis);
  const K = size(indices.shape);
  if (outer * K * inner === 0) return;
  if (n === 0) {
    // Nothing to gather from: what the JavaScript kernel's reads of nothing store (NaN, or 0 in an i32 array).
    const bits = out.dtype === "f32" ? 0x7fc00000 : 0;
    const at = f.addLocal("i32", "at");
    forRange(f, at, 0, outer * K * inner, () => {
      f.get(at);
      f.i32.const(F);
      f.i32.mul();
      f.i32.const(bits);
      f.i32.store(out.at);
    });
    return;
  }
  const [o, k, idx, dst] = ["o", "k", "idx", "dst"].map((name) => f.addLocal("i32", name)) as [Local, Local, Local, Local];
  f.i32.const(out.at);
  f.set(dst);
  forRange(f, o, 0, outer, () => {
    forRange(f, k, 0, K, () => {
      // copy the table's row that index k names to dst
      f.get(dst);
      indexedRow(f, o, k, idx, indices, n);
      f.i32.const(inner * F);
      f.i32.mul();
      f.i32.const(table.at);
      f.i32.add();
      f.i32.const(inner * F);
      f.memory.copy();
      f.get(dst);
      f.i32.const(inner * F);
      f.i32.add();
      f.set(dst);
    });
  });
}

function emitScatterAdd(f: FunctionBuilder, out: Slot, updates: Slot, indices: Slot, axis: number, scratch: number): void {
  const [outer, n, inner] = blocks(out.shape, axis);
  const K = size(indices.shape);
  const total = outer * n * inner;
  if (total === 0) return;
  // The float64 sums, zeroed.
  f.i32.const(scratch);
  f.i32.const(0);
  f.i32.const(total * 8);
  f.memory.fill();
  const [o, k, idx, to, from, q] = ["o", "k", "idx", "to", "from", "q"].map((name) => f.addLocal("i32", name)) as [Local, Local, Local, Local, Local, Local];
  // from: the element of updates (counted in elements), advancing row by row
  f.i32.const(0);
  f.set(from);
  if (n > 0 && K > 0) {
    forRange(f, o, 0, outer, () => {
      forRange(f, k, 0, K, () => {
        // to: the first element of the output row that index k names
        indexedRow(f, o, k, idx, indices, n);
        f.i32.const(inner);
        f.i32.mul();
        f.set(to);
        addRow(f, scratch, updates.at, to, from, q, inner);
        f.get(from);
        f.i32.const(inner);
        f.i32.add();
        f.set(from);
      });
    });
  }
  roundToF32(f, out.at, scratch, q, total);
}

/** Pushes (base + q) * bytes: element base + q's byte offset. */
function elementAt(f: FunctionBuilder, base: Local, q: Local, bytes: number): void {
  f.get(base);
  f.get(q);
  f.i32.add();
  f.i32.const(bytes);
  f.i32.mul();
}

/** acc[to + q] += updates[from + q] for q < inner, in float64: pairs as f64x2, then a last odd element in lane 0. */
function addRow(f: FunctionBuilder, acc: number, updates: number, to: Local, from: Local, q: Local, inner: number): void {
  const even = inner - (inner % 2);
  forRange(f, q, 0, even, () => addAt(f, acc, updates, to, from, q, 2), 2);
  if (inner % 2 === 1) {
    f.i32.const(even);
    f.set(q);
    addAt(f, acc, updates, to, from, q, 1);
  }
}

/** acc[to + q ..] += updates[from + q ..] for `count` (1 or 2) elements: one lane alone never reads or writes the element after it. */
function addAt(f: FunctionBuilder, acc: number, updates: number, to: Local, from: Local, q: Local, count: 1 | 2): void {
  elementAt(f, to, q, 8);
  elementAt(f, to, q, 8);
  if (count === 2) f.v128.load(acc);
  else f.v128.load64_zero(acc);
  elementAt(f, from, q, F);
  if (count === 2) f.v128.load64_zero(updates);
  else f.v128.load32_zero(updates);
  f.f64x2.promote_low_f32x4();
  f.f64x2.add();
  if (count === 2) f.v128.store(acc);
  else f.v128.store64_lane(0, acc);
}

/** out[i] = f32(acc[i]) for i < total, rounding once: pairs demoted together, then a last odd element. */
function roundToF32(f: FunctionBuilder, out: number, acc: number, i: Local, total: number): void {
  const pairs = Math.floor(total / 2);
  if (pairs > 0) {
    forRange(f, i, 0, pairs * 2, () => {
      f.get(i);
      f.i32.const(F);
      f.i32.mul();
      f.get(i);
      f.i32.const(8);
      f.i32.mul();
      f.v128.load(acc);
      f.f32x4.demote_f64x2_zero();
      f.v128.store64_lane(0, out);
    }, 2);
  }
  if (total % 2 === 1) {
    f.i32.const((total - 1) * F);
    f.i32.const((total - 1) * 8);
    f.v128.load64_zero(acc);
    f.f32x4.demote_f64x2_zero();
    f.v128.store32_lane(0, out);
  }
}

function emitCumsum(f: FunctionBuilder, out: Slot, x: Slot, { axis, exclusive, reverse }: { axis: number; exclusive: boolean; reverse: boolean }): void {
  const [outer, n, inner] = blocks(x.shape, axis);
  if (outer * n * inner === 0) return;
  const [o, q, j, at] = ["o", "q", "j", "at"].map((name) => f.addLocal("i32", name)) as [Local, Local, Local, Local];
  const f32 = x.dtype === "f32";
  const sum = f.addLocal(f32 ? "v128" : "i32", "sum");
  const step = (reverse ? -1 : 1) * inner * F;
  forRange(f, o, 0, outer, () => {
    forRange(f, q, 0, inner, () => {
      // at = the line's first element (its last when reversed), in bytes from the slots' starts
      f.get(o);
      f.i32.const(n * inner * F);
      f.i32.mul();
      f.get(q);
      f.i32.const(F);
      f.i32.mul();
      f.i32.add();
      if (reverse) {
        f.i32.const((n - 1) * inner * F);
        f.i32.add();
      }
      f.set(at);
      if (f32) f.v128.const_f64x2([0, 0]);
      else f.i32.const(0);
      f.set(sum);
      const add = (): void => {
        // sum += x[at], in float64 (lane 0) or wrapping i32
        f.get(sum);
        f.get(at);
        if (f32) {
          f.v128.load32_zero(x.at);
          f.f64x2.promote_low_f32x4();
          f.f64x2.add();
        } else {
          f.i32.load(x.at);
          f.i32.add();
        }
        f.set(sum);
      };
      const store = (): void => {
        f.get(at);
        f.get(sum);
        if (f32) {
          f.f32x4.demote_f64x2_zero();
          f.f32x4.extract_lane(0);
          f.f32.store(out.at);
        } else f.i32.store(out.at);
      };
      forRange(f, j, 0, n, () => {
        if (exclusive) {
          store();
          add();
        } else {
          add();
          store();
        }
        f.get(at);
        f.i32.const(step);
        f.i32.add();
        f.set(at);
      });
    });
  });
}

export const WASM_INDEXED: WasmKernelTable<"gather" | "scatterAdd" | "cumsum"> = {
  gather: (f, out, [table, indices], { axis }) => emitGather(f, out, table!, indices!, axis),
  scatterAdd: (f, out, [updates, indices], { axis }, scratch) => emitScatterAdd(f, out, updates!, indices!, axis, scratch),
  cumsum: (f, out, [x], attrs) => emitCumsum(f, out, x!, attrs),
};

/** scatterAdd's float64 sums: 8 bytes an output element. */
export const WASM_INDEXED_SCRATCH: WasmScratch<"scatterAdd"> = {
  scatterAdd: (out) => size(out.shape) * 8,
};
