// Slicing: slice is the strided gather of broadcast and transpose, started at
// the box's first element; pad fills its output and copies the input into the
// interior, one contiguous run per innermost row.

import { strides, type Data } from "../ndarray.js";
import { gather } from "./strided.js";
import type { KernelTable } from "./types.js";

/** The flat offset of a multi-index over row-major strides. */
export const offsetOf = (index: readonly number[], st: readonly number[]) => index.reduce((o, c, i) => o + c * st[i]!, 0);

/** Writes x (row-major over `shape`) into out at `offset` + Σ index · outStrides. */
function place(out: Data, outStrides: readonly number[], offset: number, x: Data, shape: readonly number[]): void {
  if (x.length === 0) return;
  const rank = shape.length;
  if (rank === 0) {
    out[offset] = x[0]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = offset;
  for (let i = 0; i < x.length; i += inner) {
    for (let j = 0; j < inner; j++) out[base + j] = x[i + j]!;
    for (let a = rank - 2; a >= 0; a--) {
      idx[a]!++;
      base += outStrides[a]!;
      if (idx[a]! < shape[a]!) break;
      base -= outStrides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
}

export const SLICING_KERNELS: KernelTable<"slice" | "pad"> = {
  slice: (out, [x], { begin }) => {
    const st = strides(x!.shape);
    gather(out.data, x!.data.subarray(offsetOf(begin, st)), out.shape, st);
  },
  pad: (out, [x], { before, value }) => {
    out.data.fill(value);
    const st = strides(out.shape);
    place(out.data, st, offsetOf(before, st), x!.data, x!.shape);
  },
};
