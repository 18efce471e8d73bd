// 2-D convolution (NHWC input, [kh, kw, in / groups, out] kernel) and its two
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
// A grouped convolution is one such product per group: P over the group's
// channels of x, and the group's columns of K, y, dy and dk, read and written
// in place through strides. A depthwise one (a channel per group) would be
// products one tap deep per channel, so it runs as direct loops instead
// (depthwise.ts). Dilation only moves where a tap reads: tap (ky, kx) of the
// window at (y0, x0) is x[y0 + ky·dh, x0 + kx·dw] (patches.ts).
//
// P is never built: its packers copy a cache-sized block at a time straight
// from x into gemm.ts's panels (4 wide: a literal 4 in the loops here),
// finding each (position, tap)'s offset once and copying the tap's channels as
// one contiguous run; where a whole kernel row lies inside x, undilated and
// over all of x's channels, its taps are adjacent in memory and make one run.
// Taps in the padding pack as zeros.
//
// The input gradient is computed a block of output positions at a time into a
// reused float64 scratch and scattered from there. Its GEMM reads dy as it
// lies, so it packs each dy element once rather than once per tap, and it
// does no work for taps that fall between strided output positions.

import type { FloatArray } from "../ndarray.js";
import { depthwise, depthwiseFilterGrad, depthwiseInputGrad, isDepthwise } from "./depthwise.js";
import { gemm, stridedPacker, zeroRow, type Packer } from "./gemm.js";
import { geometry, ofGroup, Positions, runOfTaps, tapOffset, type Geometry } from "./patches.js";
import type { Kernel } from "./types.js";

/** Packs P (rows = output positions, depth = (tap, channel)): the A operand of conv2d. */
function patchRows(g: Geometry, x: FloatArray): Packer {
  return (dst, r0, rows, d0, depth) => {
    const stride = 4 * depth; // between panels
    const at = new Positions(g, r0);
    const t0 = Math.floor(d0 / g.cg);
    const ky0 = Math.floor(t0 / g.kw);
    const kx0 = t0 - ky0 * g.kw;
    const ch0 = d0 - t0 * g.cg;
    for (let q = 0; q < rows; q++, at.next()) {
      const { b, y0, x0 } = at;
      let o = (q >> 2) * stride + (q & 3);
      let ky = ky0;
      let kx = kx0;
      let ch = ch0;
      for (let left = depth; left > 0; ) {
        const s = tapOffset(g, b, y0, x0, ky, kx);
        const taps = runOfTaps(g, s, x0, kx);
        const run = Math.min(taps * g.cg - ch, left);
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
    const t0 = Math.floor(r0 / g.cg);
    const ky0 = Math.floor(t0 / g.kw);
    const kx0 = t0 - ky0 * g.kw;
    const ch0 = r0 - t0 * g.cg;
    for (let d = 0; d < depth; d++, at.next()) {
      const { b, y0, x0 } = at;
      let ky = ky0;
      let kx = kx0;
      let ch = ch0;
      for (let q = 0; q < rows; ) {
        const s = tapOffset(g, b, y0, x0, ky, kx);
        const taps = runOfTaps(g, s, x0, kx);
        const run = Math.min(taps * g.cg - ch, rows - q);
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

export const conv2d: Kernel<"conv2d"> = (out, [x, k], attrs) => {
  const g = geometry(x!.shape, out.shape, [k!.shape[0]!, k!.shape[1]!], attrs);
  if (isDepthwise(g)) return depthwise(g, x!.data as FloatArray, k!.data as FloatArray, out.data as FloatArray);
  const og = g.o / attrs.groups;
  for (let grp = 0; grp < attrs.groups; grp++) {
    // The B packer reads the group's Kᵀ: rows o, depth (tap, c).
    const packK = stridedPacker(k!.data as FloatArray, grp * og, 1, g.o);
    const y = { data: out.data as FloatArray, offset: grp * og, rowStride: g.o, colStride: 1 };
    gemm(g.n * g.oh * g.ow, og, g.kh * g.kw * g.cg, patchRows(ofGroup(g, grp), x!.data as FloatArray), packK, y);
  }
};

export const conv2dFilterGrad: Kernel<"conv2dFilterGrad"> = (out, [x, dy], attrs) => {
  const g = geometry(x!.shape, dy!.shape, attrs.kernelSize, attrs);
  if (isDepthwise(g)) return depthwiseFilterGrad(g, x!.data as FloatArray, dy!.data as FloatArray, out.data as FloatArray);
  const og = g.o / attrs.groups;
  for (let grp = 0; grp < attrs.groups; grp++) {
    // The B packer reads the group's dyᵀ: rows o, depth positions.
    const packDy = stridedPacker(dy!.data as FloatArray, grp * og, 1, g.o);
    const dk = { data: out.data as FloatArray, offset: grp * og, rowStride: g.o, colStride: 1 };
    gemm(g.kh * g.kw * g.cg, og, g.n * g.oh * g.ow, patchColumns(ofGroup(g, grp), x!.data as FloatArray), packDy, dk);
  }
};

/** Scratch for a block of dP, reused between calls. */
let patchGrads = new Float64Array(0);
/** Elements of dP computed per block: a few hundred rows, sized to stay in L2. */
const PATCH_BLOCK = 1 << 16;

export const conv2dInputGrad: Kernel<"conv2dInputGrad"> = (out, [dy, k], attrs) => {
  const g = geometry(out.shape, dy!.shape, [k!.shape[0]!, k!.shape[1]!], attrs);
  const DY = dy!.data as FloatArray;
  const DX = out.data as FloatArray;
  if (isDepthwise(g)) return depthwiseInputGrad(g, DY, k!.data as FloatArray, DX);
  const og = g.o / attrs.groups;
  const width = g.kh * g.kw * g.cg; // dP's columns, in (ky, kx, c) order
  const block = Math.max(4, Math.min(256, Math.floor(PATCH_BLOCK / width) & ~3));
  if (patchGrads.length < block * width) patchGrads = new Float64Array(block * width);
  const dP = patchGrads;
  DX.fill(0);
  const positions = g.n * g.oh * g.ow;
  for (let grp = 0; grp < attrs.groups; grp++) {
    const gg = ofGroup(g, grp);
    // The B packer reads the group's (Kᵀ)ᵀ = K: rows (tap, c), depth o.
    const packK = stridedPacker(k!.data as FloatArray, grp * og, g.o, 1);
    for (let p0 = 0; p0 < positions; p0 += block) {
      const rows = Math.min(block, positions - p0);
      gemm(rows, width, og, stridedPacker(DY, p0 * g.o + grp * og, g.o, 1), packK, { data: dP, offset: 0, rowStride: width, colStride: 1 });
      // Add each row's patch gradient into dx, a kernel row (or a tap) at a time.
      const at = new Positions(gg, p0);
      for (let r = 0; r < rows; r++, at.next()) {
        const { b, y0, x0 } = at;
        for (let ky = 0; ky < g.kh; ky++) {
          const s = tapOffset(gg, b, y0, x0, ky, 0);
          const taps = runOfTaps(gg, s, x0, 0);
          for (let kx = 0; kx < g.kw; kx += taps) {
            const d = taps === 1 ? tapOffset(gg, b, y0, x0, ky, kx) : s;
            if (d < 0) continue;
            for (let i = 0, src = r * width + (ky * g.kw + kx) * g.cg, n = taps * g.cg; i < n; i++) DX[d + i] = DX[d + i]! + dP[src + i]!;
          }
        }
      }
    }
  }
};
