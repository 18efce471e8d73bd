// a·b + c on f32x4 lanes, in the one place that chooses how: one relaxed-SIMD
// multiply-add (fused where the hardware has FMA) where the module may use
// relaxed SIMD, else a multiply and an add. The sum is commutative, so the
// plain form gives the bits of c + a·b too.

import type { FunctionBuilder } from "./assembler.js";

/** [..., a] -> [..., a·b + c], with `b` and `c` each pushing one v128. */
export function mulAdd(f: FunctionBuilder, fma: boolean, b: () => void, c: () => void): void {
  b();
  if (fma) {
    c();
    f.f32x4.relaxed_madd();
    return;
  }
  f.f32x4.mul();
  c();
  f.f32x4.add();
}
