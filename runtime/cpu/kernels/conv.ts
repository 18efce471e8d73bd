// 2-D convolution (NHWC input, [kh, kw, in, out] kernel) and its two
// gradients, as GEMMs on the blocked product of gemm.ts. With P the patch
// matrix of x (one row per output position, one column per (tap, channel) in
// the kernel's own (ky, kx, c) order) and K the kernel as a [kh·kw·in, out]
// matrix:
//
//   conv2d            y  = P · K
//   conv2dFilterGrad  dk = Pᵀ · dy
//   conv2dInputGrad   dP = dy · Kᵀ, then dx = the sum of dP's patches back
//                     into x's layout (col2im)
//
// P is never built: its packers copy a cache-sized block at a time straight
// from x into gemm.ts's panels (4 wide: a literal 4 in the loops here),
// finding each (position, tap)'s offset once and copying the tap's channels as
// one contiguous run; where a whole kernel row lies inside x, its taps are
// adjacent in memory and make one run. Taps in the padding pack as zeros.
//
// The input gradient is computed a block of output positions at a time into a
// reused float64 scratch and scattered from there. Its GEMM reads dy as it
// lies, so it packs each dy element once rather than once per tap, and it
// does no work for taps that fall between strided output positions.

import type { Pads, Pair } from "../../program/ops.js";
import type { FloatArray } from "../ndarray.js";
import { gemm, stridedPacker, zeroRow, type Packer } from "./gemm.js";
import type { Kernel } from "./types.js";

interface Geometry {
  n: number; h: number; w: number; c: number;
  oh: number; ow: number; o: number;
  kh: number; kw: number;
  sh: number; sw: number; pt: number; pl: number;
}

function geometry(x: readonly number[], y: readonly number[], k: Pair, stride: Pair, pad: Pads): Geometry {
  return { n: x[0]!, h: x[1]!, w: x[2]!, c: x[3]!, oh: y[1]!, ow: y[2]!, o: y[3]!, kh: k[0], kw: k[1], sh: stride[0], sw: stride[1], pt: pad[0], pl: pad[2] };
}

/**
 * Output positions in row-major order, stepped one at a time: position
 * (b, oy, ox), whose window starts at input row y0 and column x0.
 */
class Positions {
  b: number;
  oy: number;
  ox: number;
  constructor(private readonly g: Geometry, start: number) {
    this.ox = start % g.ow;
    this.oy = Math.floor(start / g.ow) % g.oh;
    this.b = Math.floor(start / (g.ow * g.oh));
  }
  get y0(): number {
    return this.oy * this.g.sh - this.g.pt;
  }
  get x0(): number {
    return this.ox * this.g.sw - this.g.pl;
  }
  next(): void {
    if (++this.ox === this.g.ow) {
      this.ox = 0;
      if (++this.oy === this.g.oh) {
        this.oy = 0;
        this.b++;
      }
    }
  }
}

/**
 * How many taps, from (ky, kx) on along the kernel row, can be copied as one
 * run starting at x offset `s` (-1 when the tap is in the padding): the rest
 * of the row if it all lies inside x, else just this one.
 */
function runOfTaps(g: Geometry, s: number, x0: number, kx: number): number {
  return s >= 0 && x0 + g.kw <= g.w ? g.kw - kx : 1;
}

/** The offset of x[b, y0 + ky, x0 + kx, 0], or -1 if that is padding. */
function tapOffset(g: Geometry, b: number, y0: number, x0: number, ky: number, kx: number): number {
  const iy = y0 + ky;
  const ix = x0 + kx;
  return iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? -1 : ((b * g.h + iy) * g.w + ix) * g.c;
}

/** Packs P (rows = output positions, depth = (tap, channel)): the A operand of conv2d. */
function patchRows(g: Geometry, x: FloatArray): Packer {
  return (dst, r0, rows, d0, depth) => {
    const stride = 4 * depth; // between panels
    const at = new Positions(g, r0);
    const t0 = Math.floor(d0 / g.c);
    const ky0 = Math.floor(t0 / g.kw);
    const kx0 = t0 - ky0 * g.kw;
    const ch0 = d0 - t0 * g.c;
    for (let q = 0; q < rows; q++, at.next()) {
      const { b, y0, x0 } = at;
      let o = (q >> 2) * stride + (q & 3);
      let ky = ky0;
      let kx = kx0;
      let ch = ch0;
      for (let left = depth; left > 0; ) {
        const s = tapOffset(g, b, y0, x0, ky, kx);
        const taps = runOfTaps(g, s, x0, kx);
        const run = Math.min(taps * g.c - ch, left);
        if (s < 0) {
          for (let i = 0; i < run; i++, o += 4) dst[o] = 0;
        } else {
          for (let i = s + ch, end = i + run; i < end; i++, o += 4) dst[o] = x[i]!;
        }
        left -= run;
        ch = 0;
        kx += taps;
        if (kx === g.kw) {
          kx = 0;
          ky++;
        }
      }
    }
    for (let q = rows; (q & 3) !== 0; q++) zeroRow(dst, (q >> 2) * stride + (q & 3), depth);
  };
}

/** Packs Pᵀ (rows = (tap, channel), depth = output positions): the A operand of conv2dFilterGrad. */
function patchColumns(g: Geometry, x: FloatArray): Packer {
  return (dst, r0, rows, d0, depth) => {
    const stride = 4 * depth; // between panels
    const at = new Positions(g, d0);
    const t0 = Math.floor(r0 / g.c);
    const ky0 = Math.floor(t0 / g.kw);
    const kx0 = t0 - ky0 * g.kw;
    const ch0 = r0 - t0 * g.c;
    for (let d = 0; d < depth; d++, at.next()) {
      const { b, y0, x0 } = at;
      let ky = ky0;
      let kx = kx0;
      let ch = ch0;
      for (let q = 0; q < rows; ) {
        const s = tapOffset(g, b, y0, x0, ky, kx);
        const taps = runOfTaps(g, s, x0, kx);
        const run = Math.min(taps * g.c - ch, rows - q);
        // Row q of the panels sits at (q >> 2) * stride + (q & 3), at depth d.
        if (s < 0) {
          for (const end = q + run; q < end; q++) dst[(q >> 2) * stride + 4 * d + (q & 3)] = 0;
        } else {
          for (let i = s + ch, end = q + run; q < end; q++, i++) dst[(q >> 2) * stride + 4 * d + (q & 3)] = x[i]!;
        }
        ch = 0;
        kx += taps;
        if (kx === g.kw) {
          kx = 0;
          ky++;
        }
      }
    }
    for (let q = rows; (q & 3) !== 0; q++) zeroRow(dst, (q >> 2) * stride + (q & 3), depth);
  };
}

export const conv2d: Kernel<"conv2d"> = (out, [x, k], { stride, pad }) => {
  const g = geometry(x!.shape, out.shape, [k!.shape[0]!, k!.shape[1]!], stride, pad);
  // The B packer reads Kᵀ: rows o, depth (tap, c).
  const packK = stridedPacker(k!.data as FloatArray, 0, 1, g.o);
  gemm(g.n * g.oh * g.ow, g.o, g.kh * g.kw * g.c, patchRows(g, x!.data as FloatArray), packK, { data: out.data as FloatArray, offset: 0, rowStride: g.o, colStride: 1 });
};

export const conv2dFilterGrad: Kernel<"conv2dFilterGrad"> = (out, [x, dy], { stride, pad, kernelSize }) => {
  const g = geometry(x!.shape, dy!.shape, kernelSize, stride, pad);
  // The B packer reads dyᵀ: rows o, depth positions.
  const packDy = stridedPacker(dy!.data as FloatArray, 0, 1, g.o);
  gemm(g.kh * g.kw * g.c, g.o, g.n * g.oh * g.ow, patchColumns(g, x!.data as FloatArray), packDy, { data: out.data as FloatArray, offset: 0, rowStride: g.o, colStride: 1 });
};

/** Scratch for a block of dP, reused between calls. */
let patchGrads = new Float64Array(0);
/** Elements of dP computed per block: a few hundred rows, sized to stay in L2. */
const PATCH_BLOCK = 1 << 16;

export const conv2dInputGrad: Kernel<"conv2dInputGrad"> = (out, [dy, k], { stride, pad }) => {
  const g = geometry(out.shape, dy!.shape, [k!.shape[0]!, k!.shape[1]!], stride, pad);
  const DY = dy!.data as FloatArray;
  const DX = out.data as FloatArray;
  const width = g.kh * g.kw * g.c; // dP's columns, in (ky, kx, c) order
  const block = Math.max(4, Math.min(256, Math.floor(PATCH_BLOCK / width) & ~3));
  if (patchGrads.length < block * width) patchGrads = new Float64Array(block * width);
  const dP = patchGrads;
  // The B packer reads (Kᵀ)ᵀ = K: rows (tap, c), depth o.
  const packK = stridedPacker(k!.data as FloatArray, 0, g.o, 1);
  DX.fill(0);
  const positions = g.n * g.oh * g.ow;
  for (let p0 = 0; p0 < positions; p0 += block) {
    const rows = Math.min(block, positions - p0);
    gemm(rows, width, g.o, stridedPacker(DY, p0 * g.o, g.o, 1), packK, { data: dP, offset: 0, rowStride: width, colStride: 1 });
    // Add each row's patch gradient into dx, a kernel row (or a tap) at a time.
    const at = new Positions(g, p0);
    for (let r = 0; r < rows; r++, at.next()) {
      const { b, y0, x0 } = at;
      for (let ky = 0; ky < g.kh; ky++) {
        const s = tapOffset(g, b, y0, x0, ky, 0);
        const taps = runOfTaps(g, s, x0, 0);
        for (let kx = 0; kx < g.kw; kx += taps) {
          const d = taps === 1 ? tapOffset(g, b, y0, x0, ky, kx) : s;
          if (d < 0) continue;
          for (let i = 0, src = r * width + (ky * g.kw + kx) * g.c, n = taps * g.c; i < n; i++) DX[d + i] = DX[d + i]! + dP[src + i]!;
        }
      }
    }
  }
};

// The patch packers and the window geometry, for the f32 executable's
// WebAssembly convolutions (runtime/cpu/wasm/conv.ts), which pack the same
// patches into WebAssembly memory.
export { geometry, patchColumns, patchRows, Positions, runOfTaps, tapOffset, type Geometry };
