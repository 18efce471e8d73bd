// The `random` primitive in WebAssembly SIMD128: Philox4x32-10 of
// runtime/program/philox.ts on four counters at once, one per i32x4 lane, so
// the values are bit for bit those of `randomAt`.
//
// A round's 32x32 -> 64-bit products come from i64x2.extmul_{low,high}_i32x4_u
// (lanes 0-1 and 2-3); one shuffle gathers the four high words, another the
// four low words. The counter's words 2 and 3 start at zero, so round 0 needs
// no product of them; the last round computes word 0 alone.

import { PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1 } from "../../program/philox.js";
import type { FunctionBuilder, Local } from "../../wasm/assembler.js";

const splat4 = (v: number): [number, number, number, number] => [v, v, v, v];

/** Byte indices of the 32-bit words 1 and 3 of two i64x2 (the high words of four products), and 0 and 2 (the low words). */
const HIGH_WORDS = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
const LOW_WORDS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];

/** Leaves in `hi` (and `lo`, if given) the high and low words of multiplier · x, lane by lane (u32). */
function mul32x32(f: FunctionBuilder, multiplier: number, x: Local, hi: Local, lo: Local | undefined, even: Local, odd: Local): void {
  f.v128.const_i32x4(splat4(multiplier));
  f.get(x);
  f.i64x2.extmul_low_i32x4_u();
  f.set(even);
  f.v128.const_i32x4(splat4(multiplier));
  f.get(x);
  f.i64x2.extmul_high_i32x4_u();
  f.set(odd);
  f.get(even);
  f.get(odd);
  f.shuffle(HIGH_WORDS);
  f.set(hi);
  if (!lo) return;
  f.get(even);
  f.get(odd);
  f.shuffle(LOW_WORDS);
  f.set(lo);
}

/**
 * Pushes an f32x4 of the `random` values at flat indices index .. index + 3
 * (index an i32 local, read as a u32) for counter word `salt` and the i32[2]
 * key at byte `keyAt`: uniform(w0 of Philox4x32-10 at (i, salt, 0, 0)).
 * Declares its own scratch locals (twelve v128) at each call.
 */
export function emitRandom4(f: FunctionBuilder, index: Local, salt: number, keyAt: number): void {
  const [c0, c1, c2, c3, k0, k1, hi0, lo0, hi1, lo1, even, odd] = ["c0", "c1", "c2", "c3", "k0", "k1", "hi0", "lo0", "hi1", "lo1", "even", "odd"].map((n) =>
    f.addLocal("v128", `rnd_${n}`),
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const xor3 = (a: Local, b: Local, c: Local, dst: Local): void => {
    f.get(a);
    f.get(b);
    f.v128.xor();
    f.get(c);
    f.v128.xor();
    f.set(dst);
  };
  const bump = (k: Local, w: number): void => {
    f.get(k);
    f.v128.const_i32x4(splat4(w));
    f.i32x4.add();
    f.set(k);
  };
  for (const [k, offset] of [[k0, 0], [k1, 4]] as const) {
    f.i32.const(0);
    f.v128.load32_splat(keyAt + offset);
    f.set(k);
  }
  // Round 0 on (i .. i + 3, salt, 0, 0): the products of word 2 are 0.
  f.get(index);
  f.i32x4.splat();
  f.v128.const_i32x4([0, 1, 2, 3]);
  f.i32x4.add();
  f.set(c0);
  mul32x32(f, PHILOX_M0, c0, hi0, lo0, even, odd);
  f.v128.const_i32x4(splat4(salt));
  f.get(k0);
  f.v128.xor();
  f.set(c0);
  f.v128.const_i32x4(splat4(0));
  f.set(c1);
  f.get(hi0);
  f.get(k1);
  f.v128.xor();
  f.set(c2);
  f.get(lo0);
  f.set(c3);
  for (let round = 1; round < PHILOX_ROUNDS; round++) {
    const last = round === PHILOX_ROUNDS - 1;
    bump(k0, PHILOX_W0);
    if (!last) bump(k1, PHILOX_W1);
    if (!last) mul32x32(f, PHILOX_M0, c0, hi0, lo0, even, odd);
    mul32x32(f, PHILOX_M1, c2, hi1, last ? undefined : lo1, even, odd);
    // (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0); the last round needs only c0.
    xor3(hi1, c1, k0, c0);
    if (last) break;
    f.get(lo1);
    f.set(c1);
    xor3(hi0, c3, k1, c2);
    f.get(lo0);
    f.set(c3);
  }
  // uniform(w0) = (w0 >>> 8) · 2^-24
  f.get(c0);
  f.i32.const(8);
  f.i32x4.shr_u();
  f.f32x4.convert_i32x4_s();
  f.v128.const_f32x4(splat4(2 ** -24));
  f.f32x4.mul();
}
