// Reductions: sum and max over any set of axes, argmax over one.

import { strides } from "../ndarray.js";
import { reduceInto } from "./strided.js";
import type { KernelTable } from "./types.js";

/** Strides of the output over the input's axes, 0 on the reduced ones. */
function reducedStrides(inShape: readonly number[], axes: readonly number[]): number[] {
  const kept = inShape.filter((_, i) => !axes.includes(i));
  const ks = strides(kept);
  let k = 0;
  return inShape.map((_, i) => (axes.includes(i) ? 0 : ks[k++]!));
}

export const REDUCE_KERNELS: KernelTable<"sum" | "max" | "argmax"> = {
  sum: (out, [x], { axes }) => {
    // Float32 sums accumulate in float64 and round once.
    const acc = out.data instanceof Float32Array ? new Float64Array(out.data.length) : out.data.fill(0);
    reduceInto(acc, x!.data, x!.shape, reducedStrides(x!.shape, axes), "sum");
    if (acc !== out.data) out.data.set(acc);
  },
  max: (out, [x], { axes }) => {
    // An Int32Array stores -Infinity as 0: integers start from the least i32.
    out.data.fill(out.data instanceof Int32Array ? -0x80000000 : -Infinity);
    reduceInto(out.data, x!.data, x!.shape, reducedStrides(x!.shape, axes), "max");
  },
  argmax: (out, [x], { axis }) => {
    const shape = x!.shape;
    const n = shape[axis]!;
    const inner = strides(shape)[axis]!;
    const outer = x!.data.length / (n * inner) || 0;
    const src = x!.data;
    const o = out.data;
    for (let a = 0; a < outer; a++) {
      for (let b = 0; b < inner; b++) {
        const base = a * n * inner + b;
        let best = 0;
        let bestValue = src[base]!;
        for (let k = 1; k < n; k++) {
          const v = src[base + k * inner]!;
          if (v > bestValue) {
            best = k;
            bestValue = v;
          }
        }
        o[a * inner + b] = best;
      }
    }
  },
};
