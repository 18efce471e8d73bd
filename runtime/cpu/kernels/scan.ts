// Scans along one axis of an [outer, n, inner] block: each (outer, inner)
// line is summed in order (from the end when reversed), exclusive scans
// writing the running sum before adding the element. Sums run in float64.

import { size } from "../ndarray.js";
import type { KernelTable } from "./types.js";

export const SCAN_KERNELS: KernelTable<"cumsum"> = {
  cumsum: (out, [x], { axis, exclusive, reverse }) => {
    const shape = x!.shape;
    const outer = size(shape.slice(0, axis));
    const n = shape[axis]!;
    const inner = size(shape.slice(axis + 1));
    const X = x!.data;
    const Y = out.data;
    for (let o = 0; o < outer; o++) {
      for (let q = 0; q < inner; q++) {
        const base = o * n * inner + q;
        let s = 0;
        for (let j = 0; j < n; j++) {
          const at = base + (reverse ? n - 1 - j : j) * inner;
          if (exclusive) {
            Y[at] = s;
            s += X[at]!;
          } else {
            s += X[at]!;
            Y[at] = s;
          }
        }
      }
    }
  },
};
