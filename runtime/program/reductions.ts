// The reductions' meaning, written once: where each one starts, how it folds
// one more element in, and how two partial results combine (threads of a
// workgroup, blocks of a loop). argmax picks the first of equal maxima, as
// NumPy, PyTorch and JAX do: an element replaces the best only when strictly
// greater, and of two partial results with equal values the lower position wins.
//
// The WGSL row kernels (compiler/codegen/wgsl/row.ts) are written from these
// formulas; the CPU kernels (runtime/cpu/kernels/reduce.ts, strided.ts) follow
// the same rules in hand-written loops, and the WebGPU tests compare the two.

import type { DType } from "./ops.js";

export type ReductionOp = "sum" | "max" | "argmax";

export interface ReductionDef {
  /** The accumulator's first value in WGSL: 0 for a sum, the lowest finite value for a max (WGSL may assume no Inf). */
  readonly wgslStart: (dtype: DType) => string;
  /** The accumulator after folding in `v`; for argmax also its position `i`, into `best` and `bestAt`. */
  readonly wgslFold: (acc: string, v: string, accAt: string, i: string) => string;
  /** Two partial results combined into the first (`at` names the positions, for argmax). */
  readonly wgslCombine: (a: string, b: string, aAt: string, bAt: string) => string;
}

const lowest = (dtype: DType) => (dtype === "f32" ? "-3.4028234663852886e38" : "-2147483648i");

export const REDUCTIONS: { readonly [O in ReductionOp]: ReductionDef } = {
  sum: {
    wgslStart: (dtype) => (dtype === "f32" ? "0.0" : "0i"),
    wgslFold: (acc, v) => `${acc} = ${acc} + ${v};`,
    wgslCombine: (a, b) => `${a} = ${a} + ${b};`,
  },
  max: {
    wgslStart: lowest,
    wgslFold: (acc, v) => `${acc} = max(${acc}, ${v});`,
    wgslCombine: (a, b) => `${a} = max(${a}, ${b});`,
  },
  argmax: {
    wgslStart: lowest,
    // Positions increase along each thread's walk, so strictly greater keeps the first.
    wgslFold: (acc, v, accAt, i) => `if (${v} > ${acc}) { ${acc} = ${v}; ${accAt} = ${i}; }`,
    wgslCombine: (a, b, aAt, bAt) => `if (${b} > ${a} || (${b} == ${a} && ${bAt} < ${aAt})) { ${a} = ${b}; ${aAt} = ${bAt}; }`,
  },
};
