// A register block: each invocation of a contraction kernel accumulates r
// rows x c columns of the result in registers, r + c operand values per step
// of the reduction feeding r * c multiply-adds. Both kernel families build
// on it: the software family reads the operands from their buffers
// (matmul.ts, conv.ts), the hardware family from workgroup memory
// (workgroup-gemm.ts).

import type { Emitter } from "./expr.js";

/** The rows and columns of the result one invocation accumulates. */
export interface RegisterBlock {
  readonly r: number;
  readonly c: number;
}

export const acc = (i: number, j: number) => `acc${i}_${j}`;

export function declareAccumulators(e: Emitter, t: RegisterBlock): void {
  for (let i = 0; i < t.r; i++) e.line(Array.from({ length: t.c }, (_, j) => `var ${acc(i, j)} = 0.0;`).join(" "));
}

/** One step of the reduction: r values of the left operand and c of the right, then r*c multiply-adds. */
export function accumulate(e: Emitter, t: RegisterBlock, a: (i: number) => string, b: (j: number) => string): void {
  e.block("", () => {
    for (let i = 0; i < t.r; i++) e.line(`let lhs${i} = ${a(i)};`);
    for (let j = 0; j < t.c; j++) e.line(`let rhs${j} = ${b(j)};`);
    for (let i = 0; i < t.r; i++) e.line(Array.from({ length: t.c }, (_, j) => `${acc(i, j)} = fma(lhs${i}, rhs${j}, ${acc(i, j)});`).join(" "));
  });
}

/** Reduction steps unrolled per loop iteration: small tiles spend more of each iteration on the loop itself. */
export function unrollFor(t: RegisterBlock): number {
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
