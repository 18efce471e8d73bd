// Slicing: slice is the strided gather of broadcast and transpose, started at
// the box's first element; pad fills its output and scatters the input into
// the interior (strided.ts).

import { strides } from "../ndarray.js";
import { gather, scatter } from "./strided.js";
import type { KernelTable } from "./types.js";

/** The flat offset of a multi-index over row-major strides. */
export const offsetOf = (index: readonly number[], st: readonly number[]) => index.reduce((o, c, i) => o + c * st[i]!, 0);

export const SLICING_KERNELS: KernelTable<"slice" | "pad"> = {
  slice: (out, [x], { begin }) => {
    const st = strides(x!.shape);
    gather(out.data, x!.data.subarray(offsetOf(begin, st)), out.shape, st);
  },
  pad: (out, [x], { before, value }) => {
    out.data.fill(value);
    const st = strides(out.shape);
    scatter(out.data.subarray(offsetOf(before, st)), x!.data, x!.shape, st);
  },
};
