// Depthwise convolutions (one input channel per group, M = out / in outputs
// each) as direct loops. As GEMMs they would be one product per channel,
// each only kh·kw deep and M wide: packing would cost as much as the
// arithmetic, for no gain. Here each (position, tap) reads its run of C
// channels of x once and meets the kernel's row of the tap, O = C·M
// contiguous values, so the inner loops walk memory in order. Sums are
// float64, rounded once into the output (the input gradient, like the GEMM
// one, adds into dx tap by tap).
//
//   y[p, c·M + m]      = Σ_tap x[p @ tap, c] · k[tap, c·M + m]
//   dk[tap, c·M + m]   = Σ_p   x[p @ tap, c] · dy[p, c·M + m]
//   dx[p @ tap, c]    += Σ_m   dy[p, c·M + m] · k[tap, c·M + m]
//
// where p @ tap is the input cell that output position p reads through tap.

import type { FloatArray } from "../ndarray.js";
import { Positions, tapOffset, type Geometry } from "./patches.js";

/** One channel per group, more than one group. */
export function isDepthwise(g: Geometry): boolean {
  return g.cg === 1 && g.c > 1;
}

/** Calls `f(p, t, s)` for every output position p and tap t whose input cell (x offset s of its channel 0) lies inside x. */
function eachTap(g: Geometry, f: (p: number, t: number, s: number) => void): void {
  const at = new Positions(g, 0);
  for (let p = 0, positions = g.n * g.oh * g.ow; p < positions; p++, at.next()) {
    const { b, y0, x0 } = at;
    for (let ky = 0, t = 0; ky < g.kh; ky++) {
      for (let kx = 0; kx < g.kw; kx++, t++) {
        const s = tapOffset(g, b, y0, x0, ky, kx);
        if (s >= 0) f(p, t, s);
      }
    }
  }
}

let scratch = new Float64Array(0);

function zeroedScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  scratch.fill(0, 0, n);
  return scratch;
}

export function depthwise(g: Geometry, X: FloatArray, K: FloatArray, Y: FloatArray): void {
  const [C, O, M] = [g.c, g.o, g.o / g.c];
  const sums = zeroedScratch(O);
  let row = 0;
  const flush = (p: number) => {
    for (; row < p; row++) {
      for (let o = 0; o < O; o++) Y[row * O + o] = sums[o]!;
      sums.fill(0, 0, O);
    }
  };
  eachTap(g, (p, t, s) => {
    flush(p);
    for (let c = 0, o = 0, k = t * O; c < C; c++) {
      const xv = X[s + c]!;
      for (let m = 0; m < M; m++, o++) sums[o]! += xv * K[k + o]!;
    }
  });
  flush(g.n * g.oh * g.ow);
}

export function depthwiseFilterGrad(g: Geometry, X: FloatArray, DY: FloatArray, DK: FloatArray): void {
  const [C, O, M] = [g.c, g.o, g.o / g.c];
  const sums = zeroedScratch(g.kh * g.kw * O);
  eachTap(g, (p, t, s) => {
    for (let c = 0, o = 0, k = t * O, d = p * O; c < C; c++) {
      const xv = X[s + c]!;
      for (let m = 0; m < M; m++, o++) sums[k + o]! += xv * DY[d + o]!;
    }
  });
  for (let i = 0, n = g.kh * g.kw * O; i < n; i++) DK[i] = sums[i]!;
}

export function depthwiseInputGrad(g: Geometry, DY: FloatArray, K: FloatArray, DX: FloatArray): void {
  const [C, O, M] = [g.c, g.o, g.o / g.c];
  DX.fill(0);
  eachTap(g, (p, t, s) => {
    for (let c = 0, o = 0, k = t * O, d = p * O; c < C; c++) {
      let sum = 0;
      for (let m = 0; m < M; m++, o++) sum += DY[d + o]! * K[k + o]!;
      DX[s + c] = DX[s + c]! + sum;
    }
  });
}
