// 2-D convolution (NHWC input, [kh, kw, in, out] kernel) and its two
// gradients, direct form. Each loop nest keeps the channel axis innermost, so
// the inner loops run over contiguous memory in every operand.

import type { Pads, Pair } from "../../program/ops.js";
import type { Data } from "../ndarray.js";
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

/** Calls `visit(xOffset, yOffset, kOffset)` for every (output position, in-bounds kernel tap). */
function forEachTap(g: Geometry, visit: (xBase: number, yBase: number, kBase: number) => void): void {
  for (let n = 0; n < g.n; n++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        const yBase = ((n * g.oh + oy) * g.ow + ox) * g.o;
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * g.sh + ky - g.pt;
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * g.sw + kx - g.pl;
            if (ix < 0 || ix >= g.w) continue;
            visit(((n * g.h + iy) * g.w + ix) * g.c, yBase, (ky * g.kw + kx) * g.c * g.o);
          }
        }
      }
    }
  }
}

export const conv2d: Kernel<"conv2d"> = (out, [x, k], { stride, pad }) => {
  const g = geometry(x!.shape, out.shape, [k!.shape[0]!, k!.shape[1]!], stride, pad);
  const X = x!.data;
  const K = k!.data;
  const Y: Data = out.data;
  Y.fill(0);
  forEachTap(g, (xb, yb, kb) => {
    for (let c = 0; c < g.c; c++) {
      const xv = X[xb + c]!;
      const kr = kb + c * g.o;
      for (let o = 0; o < g.o; o++) Y[yb + o] = Y[yb + o]! + xv * K[kr + o]!;
    }
  });
};

export const conv2dInputGrad: Kernel<"conv2dInputGrad"> = (out, [dy, k], { stride, pad }) => {
  const g = geometry(out.shape, dy!.shape, [k!.shape[0]!, k!.shape[1]!], stride, pad);
  const DY = dy!.data;
  const K = k!.data;
  const DX = out.data;
  DX.fill(0);
  forEachTap(g, (xb, yb, kb) => {
    for (let c = 0; c < g.c; c++) {
      const kr = kb + c * g.o;
      let s = 0;
      for (let o = 0; o < g.o; o++) s += DY[yb + o]! * K[kr + o]!;
      DX[xb + c] = DX[xb + c]! + s;
    }
  });
};

export const conv2dFilterGrad: Kernel<"conv2dFilterGrad"> = (out, [x, dy], { stride, pad, kernelSize }) => {
  const g = geometry(x!.shape, dy!.shape, kernelSize, stride, pad);
  const X = x!.data;
  const DY = dy!.data;
  const DK = out.data;
  DK.fill(0);
  forEachTap(g, (xb, yb, kb) => {
    for (let c = 0; c < g.c; c++) {
      const xv = X[xb + c]!;
      const kr = kb + c * g.o;
      for (let o = 0; o < g.o; o++) DK[kr + o] = DK[kr + o]! + xv * DY[yb + o]!;
    }
  });
};
