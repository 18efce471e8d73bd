// 2-D convolution (NHWC input, [kh, kw, in, out] kernel) and its two
// gradients, as implicit GEMMs on the blocked product of gemm.ts. With P the
// patch matrix (one row per output position, one column per (tap, channel),
// in the kernel's own (ky, kx, c) order) and K the kernel as a
// [kh·kw·in, out] matrix:
//
//   conv2d            y  = P · K
//   conv2dFilterGrad  dk = Pᵀ · dy
//   conv2dInputGrad   dx = Q · K'   where Q gathers, for each input position
//                     and tap, the output position that tap reached (the
//                     transposed convolution), with the taps in reverse order
//                     (the flipped kernel), and K'[(t', o), c] = K[T−1−t', c, o]
//                     for T = kh·kw taps.
//
// P and Q are never built: their packers copy a cache-sized block at a time
// straight from the NHWC tensor into gemm.ts's panels (4 rows wide, a literal
// 4 in the loops here), computing an offset once per (position, tap) and
// copying the tap's channels as one contiguous run; where a whole kernel row
// lies inside the tensor, its taps are adjacent in memory and make one run.
// (Reversing Q's taps is what makes its kernel rows run forward in memory.)
// Out-of-bounds taps (padding) pack as zeros. The input gradient gathers
// rather than scatters, so every dx element is written once; with a stride
// above 1 most of Q's taps fall between output positions and are zero, which
// costs multiplications by zero but stays correct.

import type { Pads, Pair } from "../../program/ops.js";
import type { FloatArray } from "../ndarray.js";
import { gemm, stridedPacker, zeroRow, type Packer } from "./gemm.js";
import type { Kernel } from "./types.js";

/**
 * A patch matrix read from the NHWC tensor `src` ([n, srcH, srcW, chans]).
 * Row r is position (b, gy, gx) of an n x gridH x gridW grid; column (t, ch)
 * with t = ky·kw + kx is src[b, sy, sx, ch] where sy = (gy·ay + by + ky·ey) / div
 * (and likewise for x), or 0 when that is fractional or outside the tensor.
 */
interface Patches {
  readonly src: FloatArray;
  readonly srcH: number;
  readonly srcW: number;
  readonly chans: number;
  readonly gridH: number;
  readonly gridW: number;
  readonly kw: number;
  readonly ay: number; readonly by: number; readonly ey: number; readonly divY: number;
  readonly ax: number; readonly bx: number; readonly ex: number; readonly divX: number;
}

/**
 * The offset of src[b, sy, sx, 0] for tap (ky, kx) of the grid position whose
 * unscaled source coordinates are (y0, x0), or -1 where the tap reads padding.
 */
function tapOffset(p: Patches, b: number, y0: number, x0: number, ky: number, kx: number): number {
  let sy = y0 + ky * p.ey;
  let sx = x0 + kx * p.ex;
  if (p.divY !== 1) {
    if (sy % p.divY !== 0) return -1;
    sy /= p.divY;
  }
  if (p.divX !== 1) {
    if (sx % p.divX !== 0) return -1;
    sx /= p.divX;
  }
  if (sy < 0 || sy >= p.srcH || sx < 0 || sx >= p.srcW) return -1;
  return ((b * p.srcH + sy) * p.srcW + sx) * p.chans;
}

/**
 * When the source x coordinate steps forward with kx (a forward patch), the
 * taps kx..kw-1 of one kernel row are adjacent in memory, and a packer can copy
 * them as one run if x0 + kw <= this value; otherwise they never are, and the
 * value is -Infinity.
 */
function contiguousRowEnd(p: Patches): number {
  return p.ex === 1 && p.divX === 1 ? p.srcW : -Infinity;
}

/** Packs P with rows = grid positions and depth = (tap, channel): the A operand of conv2d and conv2dInputGrad. */
function patchRows(p: Patches): Packer {
  const { src, chans, gridH, gridW, kw, ay, by, ax, bx } = p;
  const rowEnd = contiguousRowEnd(p);
  return (dst, r0, rows, d0, depth) => {
    const stride = 4 * depth; // between panels
    let gx = r0 % gridW;
    let gy = Math.floor(r0 / gridW) % gridH;
    let b = Math.floor(r0 / (gridW * gridH));
    const t0 = Math.floor(d0 / chans);
    const ky0 = Math.floor(t0 / kw);
    const kx0 = t0 - ky0 * kw;
    const ch0 = d0 - t0 * chans;
    for (let q = 0; q < rows; q++) {
      let o = (q >> 2) * stride + (q & 3);
      const y0 = gy * ay + by;
      const x0 = gx * ax + bx;
      let ky = ky0;
      let kx = kx0;
      let ch = ch0;
      for (let left = depth; left > 0; ) {
        const s = tapOffset(p, b, y0, x0, ky, kx);
        const taps = s >= 0 && x0 + kw <= rowEnd ? kw - kx : 1;
        const run = Math.min(taps * chans - ch, left);
        if (s < 0) {
          for (let i = 0; i < run; i++, o += 4) dst[o] = 0;
        } else {
          for (let i = s + ch, end = i + run; i < end; i++, o += 4) dst[o] = src[i]!;
        }
        left -= run;
        ch = 0;
        kx += taps;
        if (kx === kw) {
          kx = 0;
          ky++;
        }
      }
      if (++gx === gridW) {
        gx = 0;
        if (++gy === gridH) {
          gy = 0;
          b++;
        }
      }
    }
    for (let q = rows; (q & 3) !== 0; q++) zeroRow(dst, (q >> 2) * stride + (q & 3), depth);
  };
}

/** Packs Pᵀ, rows = (tap, channel) and depth = grid positions: the A operand of conv2dFilterGrad. */
function patchColumns(p: Patches): Packer {
  const { src, chans, gridH, gridW, kw, ay, by, ax, bx } = p;
  const rowEnd = contiguousRowEnd(p);
  return (dst, r0, rows, d0, depth) => {
    const stride = 4 * depth; // between panels
    let gx = d0 % gridW;
    let gy = Math.floor(d0 / gridW) % gridH;
    let b = Math.floor(d0 / (gridW * gridH));
    const t0 = Math.floor(r0 / chans);
    const ky0 = Math.floor(t0 / kw);
    const kx0 = t0 - ky0 * kw;
    const ch0 = r0 - t0 * chans;
    for (let d = 0; d < depth; d++) {
      const y0 = gy * ay + by;
      const x0 = gx * ax + bx;
      let ky = ky0;
      let kx = kx0;
      let ch = ch0;
      for (let q = 0; q < rows; ) {
        const s = tapOffset(p, b, y0, x0, ky, kx);
        const taps = s >= 0 && x0 + kw <= rowEnd ? kw - kx : 1;
        const run = Math.min(taps * chans - ch, rows - q);
        // Row q of the panel sits at (q >> 2) * stride + (q & 3), at depth d.
        if (s < 0) {
          for (const end = q + run; q < end; q++) dst[(q >> 2) * stride + 4 * d + (q & 3)] = 0;
        } else {
          for (let i = s + ch, end = q + run; q < end; q++, i++) dst[(q >> 2) * stride + 4 * d + (q & 3)] = src[i]!;
        }
        ch = 0;
        kx += taps;
        if (kx === kw) {
          kx = 0;
          ky++;
        }
      }
      if (++gx === gridW) {
        gx = 0;
        if (++gy === gridH) {
          gy = 0;
          b++;
        }
      }
    }
    for (let q = rows; (q & 3) !== 0; q++) zeroRow(dst, (q >> 2) * stride + (q & 3), depth);
  };
}

/** Packs K' (rows = input channel c, depth = (reversed tap t', output channel o)), read from the kernel [kh, kw, c, o] with `taps` taps. */
function flippedKernel(k: FloatArray, taps: number, c: number, o: number): Packer {
  return (dst, r0, rows, d0, depth) => {
    for (let q = 0; q < rows; q++) {
      let t = Math.floor(d0 / o);
      let oc = d0 - t * o;
      let s = ((taps - 1 - t) * c + r0 + q) * o + oc;
      for (let d = 0, at = (q >> 2) * 4 * depth + (q & 3); d < depth; d++, at += 4) {
        dst[at] = k[s]!;
        s++;
        if (++oc === o) {
          oc = 0;
          t++;
          s = ((taps - 1 - t) * c + r0 + q) * o;
        }
      }
    }
    for (let q = rows; (q & 3) !== 0; q++) zeroRow(dst, (q >> 2) * 4 * depth + (q & 3), depth);
  };
}

interface Geometry {
  n: number; h: number; w: number; c: number;
  oh: number; ow: number; o: number;
  kh: number; kw: number;
  sh: number; sw: number; pt: number; pl: number;
}

function geometry(x: readonly number[], y: readonly number[], k: Pair, stride: Pair, pad: Pads): Geometry {
  return { n: x[0]!, h: x[1]!, w: x[2]!, c: x[3]!, oh: y[1]!, ow: y[2]!, o: y[3]!, kh: k[0], kw: k[1], sh: stride[0], sw: stride[1], pt: pad[0], pl: pad[2] };
}

/** P: output positions reading the input x (tap (ky, kx) of output (oy, ox) is input (oy·sh − pt + ky, ox·sw − pl + kx)). */
function forwardPatches(g: Geometry, x: FloatArray): Patches {
  return {
    src: x, srcH: g.h, srcW: g.w, chans: g.c, gridH: g.oh, gridW: g.ow, kw: g.kw,
    ay: g.sh, by: -g.pt, ey: 1, divY: 1,
    ax: g.sw, bx: -g.pl, ex: 1, divX: 1,
  };
}

export const conv2d: Kernel<"conv2d"> = (out, [x, k], { stride, pad }) => {
  const g = geometry(x!.shape, out.shape, [k!.shape[0]!, k!.shape[1]!], stride, pad);
  const packP = patchRows(forwardPatches(g, x!.data as FloatArray));
  // The B packer reads Kᵀ: rows o, depth (tap, c).
  const packK = stridedPacker(k!.data as FloatArray, 0, 1, g.o);
  gemm(g.n * g.oh * g.ow, g.o, g.kh * g.kw * g.c, packP, packK, { data: out.data as FloatArray, offset: 0, rowStride: g.o, colStride: 1 });
};

export const conv2dInputGrad: Kernel<"conv2dInputGrad"> = (out, [dy, k], { stride, pad }) => {
  const g = geometry(out.shape, dy!.shape, [k!.shape[0]!, k!.shape[1]!], stride, pad);
  // Tap (ky, kx) of input (iy, ix) came from output ((iy + pt − ky) / sh, (ix + pl − kx) / sw) when that is
  // whole; Q's reversed tap (ky', kx') = (kh − 1 − ky, kw − 1 − kx) reads ((iy + pt − kh + 1 + ky') / sh, ...).
  const packQ = patchRows({
    src: dy!.data as FloatArray, srcH: g.oh, srcW: g.ow, chans: g.o, gridH: g.h, gridW: g.w, kw: g.kw,
    ay: 1, by: g.pt - g.kh + 1, ey: 1, divY: g.sh,
    ax: 1, bx: g.pl - g.kw + 1, ex: 1, divX: g.sw,
  });
  const packK = flippedKernel(k!.data as FloatArray, g.kh * g.kw, g.c, g.o);
  gemm(g.n * g.h * g.w, g.c, g.kh * g.kw * g.o, packQ, packK, { data: out.data as FloatArray, offset: 0, rowStride: g.c, colStride: 1 });
};

export const conv2dFilterGrad: Kernel<"conv2dFilterGrad"> = (out, [x, dy], { stride, pad, kernelSize }) => {
  const g = geometry(x!.shape, dy!.shape, kernelSize, stride, pad);
  const packPt = patchColumns(forwardPatches(g, x!.data as FloatArray));
  // The B packer reads dyᵀ: rows o, depth positions.
  const packDy = stridedPacker(dy!.data as FloatArray, 0, 1, g.o);
  gemm(g.kh * g.kw * g.c, g.o, g.n * g.oh * g.ow, packPt, packDy, { data: out.data as FloatArray, offset: 0, rowStride: g.o, colStride: 1 });
};
