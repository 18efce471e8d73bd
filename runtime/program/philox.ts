// Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as
// easy as 1, 2, 3", SC 2011; the Random123 library): a counter-based random
// function. Its output is a pure function of a 128-bit counter and a 64-bit
// key, so every element of a `random` tensor is computed from its own index,
// in any order, by any thread, and the CPU and WebGPU draw the same bits. A
// resumed run that feeds the same key draws the same numbers again.
//
// The generator is written twice, once per target, from the constants below:
// `philox4x32` in JavaScript (the CPU kernels) and PHILOX_WGSL (the WebGPU
// kernels). Both build the high word of a 32x32-bit product from 16-bit
// halves, since neither JavaScript numbers nor WGSL have a 64-bit multiply.
//
// The `random` primitive's value at flat index i is `uniform(w0)`, where w0 is
// the first output word for the counter (i, salt, 0, 0) and the key.

/** The round multipliers and the Weyl key increments (golden ratio, sqrt(3) - 1). */
export const PHILOX_M0 = 0xd2511f53;
export const PHILOX_M1 = 0xcd9e8d57;
export const PHILOX_W0 = 0x9e3779b9;
export const PHILOX_W1 = 0xbb67ae85;
export const PHILOX_ROUNDS = 10;

export type Words4 = [number, number, number, number];

/** The high 32 bits of the 64-bit product of two u32. Every partial product of 16-bit halves is below 2^32. */
export function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const hl = ah * bl;
  // At most 2 (2^16 - 1) + (2^16 - 1)^2 = 2^32 - 1: a u32, in WGSL too.
  const cross = ((al * bl) >>> 16) + (hl & 0xffff) + al * bh;
  return (ah * bh + (hl >>> 16) + (cross >>> 16)) >>> 0;
}

/** Philox4x32-10 of counter c and key k (each word a u32; an i32 is read as its bits). */
export function philox4x32(c: readonly [number, number, number, number], k: readonly [number, number]): Words4 {
  let c0 = c[0] >>> 0;
  let c1 = c[1] >>> 0;
  let c2 = c[2] >>> 0;
  let c3 = c[3] >>> 0;
  let k0 = k[0] >>> 0;
  let k1 = k[1] >>> 0;
  for (let r = 0; r < PHILOX_ROUNDS; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulhi(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulhi(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  return [c0, c1, c2, c3];
}

/** A u32 as a float in [0, 1): its top 24 bits times 2^-24, exact in f32. */
export function uniform(w: number): number {
  return (w >>> 8) * 2 ** -24;
}

/** The `random` primitive's value at flat index i: uniform(w0) of Philox at counter (i, salt, 0, 0) under the key (k0, k1). */
export function randomAt(i: number, salt: number, k0: number, k1: number): number {
  return uniform(philox4x32([i, salt, 0, 0], [k0, k1])[0]);
}

const hex = (v: number) => `0x${v.toString(16)}u`;

/**
 * The same generator in WGSL, as u32 arithmetic (which wraps, as the
 * algorithm needs; no NaN, Inf or 64-bit type is involved). `dlc_random`
 * takes the key as the i32 words of the key tensor and reads their bits.
 */
export const PHILOX_WGSL = `fn dlc_mulhi(a: u32, b: u32) -> u32 {
  // The high word of a * b from 16-bit halves: every partial sum fits a u32.
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let hl = ah * bl;
  let cross = ((al * bl) >> 16u) + (hl & 0xffffu) + al * bh;
  return ah * bh + (hl >> 16u) + (cross >> 16u);
}
fn dlc_philox4x32(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < ${PHILOX_ROUNDS}u; r = r + 1u) {
    if (r > 0u) { k = k + vec2<u32>(${hex(PHILOX_W0)}, ${hex(PHILOX_W1)}); }
    let hi0 = dlc_mulhi(${hex(PHILOX_M0)}, c.x);
    let hi1 = dlc_mulhi(${hex(PHILOX_M1)}, c.z);
    c = vec4<u32>(hi1 ^ c.y ^ k.x, ${hex(PHILOX_M1)} * c.z, hi0 ^ c.w ^ k.y, ${hex(PHILOX_M0)} * c.x);
  }
  return c;
}
fn dlc_random(i: u32, salt: u32, k0: i32, k1: i32) -> f32 {
  let w = dlc_philox4x32(vec4<u32>(i, salt, 0u, 0u), vec2<u32>(bitcast<u32>(k0), bitcast<u32>(k1))).x;
  return f32(w >> 8u) * 5.9604644775390625e-8;
}`;
