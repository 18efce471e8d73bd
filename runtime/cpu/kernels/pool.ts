// Pooling over NHWC windows. Cells outside the input (padding) never win a
// max and are not counted in an average; a max window's gradient goes to its
// first maximal cell in row-major window order (ties included).
//
// NaN propagates as in the `max` reduction: a window holding a NaN has max
// NaN, and its gradient goes to the first NaN cell. (An empty window, which
// the shape rules exclude, would give -Infinity and no gradient.)
//
// Each kernel walks the output positions once, lists the window's in-bounds
// cells (offsets of channel 0) into a reused Int32Array, and runs the channel
// loop over them. The max kernels find the winning cell without branching on
// the data (see `winner`): on real activations which cell wins is random, and
// mispredicted branches cost more than the comparisons.

import type { WindowAttrs } from "../../program/ops.js";
import type { Data } from "../ndarray.js";
import type { Kernel } from "./types.js";

interface Windows {
  readonly n: number; readonly h: number; readonly w: number; readonly c: number;
  readonly oh: number; readonly ow: number;
  readonly kh: number; readonly kw: number;
  readonly sh: number; readonly sw: number; readonly pt: number; readonly pl: number;
  /** Scratch for one window's cell offsets. */
  readonly cells: Int32Array;
}

function windows(inShape: readonly number[], outShape: readonly number[], { size, stride, pad }: WindowAttrs): Windows {
  const [n, h, w, c] = inShape as [number, number, number, number];
  return {
    n, h, w, c, oh: outShape[1]!, ow: outShape[2]!,
    kh: size[0], kw: size[1], sh: stride[0], sw: stride[1], pt: pad[0], pl: pad[2],
    cells: new Int32Array(size[0] * size[1]),
  };
}

/** Fills g.cells with the input offsets (channel 0) of the in-bounds cells of window (b, oy, ox), row-major; returns their count. */
function cellsOf(g: Windows, b: number, oy: number, ox: number): number {
  const y0 = oy * g.sh - g.pt;
  const x0 = ox * g.sw - g.pl;
  const yLo = Math.max(0, y0);
  const yHi = Math.min(g.h, y0 + g.kh);
  const xLo = Math.max(0, x0);
  const xHi = Math.min(g.w, x0 + g.kw);
  const cells = g.cells;
  let count = 0;
  for (let iy = yLo; iy < yHi; iy++) {
    for (let ix = xLo, cell = ((b * g.h + iy) * g.w + xLo) * g.c; ix < xHi; ix++, cell += g.c) cells[count++] = cell;
  }
  return count;
}

/**
 * The offset of channel `ch` of the window's first NaN cell, else of its first
 * maximal cell. Comparisons become 0/1 integers and select by arithmetic, so
 * V8 emits no data-dependent branch.
 */
function winner(X: Data, cells: Int32Array, count: number, ch: number): number {
  let best = cells[0]! + ch;
  for (let k = 1; k < count; k++) {
    const at = cells[k]! + ch;
    const v = X[at]!;
    const m = X[best]!;
    // Strictly greater, so ties keep the earlier cell; a NaN wins over numbers but not over an earlier NaN.
    // (Unary + turns a comparison into 0 or 1 without a branch; `c ? 1 : 0` would branch.)
    const takes = +(v > m) | (+(v !== v) & +(m === m));
    best += takes * (at - best);
  }
  return best;
}

export const maxPool2d: Kernel<"maxPool2d"> = (out, [x], attrs) => {
  const X = x!.data;
  const Y = out.data;
  const g = windows(x!.shape, out.shape, attrs);
  const { c, cells } = g;
  for (let b = 0, yb = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++, yb += c) {
        const count = cellsOf(g, b, oy, ox);
        if (count === 0) {
          for (let ch = 0; ch < c; ch++) Y[yb + ch] = -Infinity;
          continue;
        }
        for (let ch = 0; ch < c; ch++) Y[yb + ch] = X[winner(X, cells, count, ch)]!;
      }
    }
  }
};

export const maxPool2dGrad: Kernel<"maxPool2dGrad"> = (out, [x, dy], attrs) => {
  const X = x!.data;
  const DY = dy!.data;
  const DX = out.data;
  DX.fill(0);
  const g = windows(x!.shape, dy!.shape, attrs);
  const { c, cells } = g;
  for (let b = 0, yb = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++, yb += c) {
        const count = cellsOf(g, b, oy, ox);
        if (count === 0) continue;
        for (let ch = 0; ch < c; ch++) {
          const best = winner(X, cells, count, ch);
          DX[best] = DX[best]! + DY[yb + ch]!;
        }
      }
    }
  }
};

export const avgPool2d: Kernel<"avgPool2d"> = (out, [x], attrs) => {
  const X = x!.data;
  const Y = out.data;
  const g = windows(x!.shape, out.shape, attrs);
  const { c, cells } = g;
  for (let b = 0, yb = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++, yb += c) {
        const count = cellsOf(g, b, oy, ox);
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let k = 0; k < count; k++) s += X[cells[k]! + ch]!;
          Y[yb + ch] = s / count;
        }
      }
    }
  }
};

export const avgPool2dGrad: Kernel<"avgPool2dGrad"> = (out, [dy], attrs) => {
  const DY = dy!.data;
  const DX = out.data;
  DX.fill(0);
  const g = windows(out.shape, dy!.shape, attrs);
  const { c, cells } = g;
  for (let b = 0, yb = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++, yb += c) {
        const count = cellsOf(g, b, oy, ox);
        for (let ch = 0; ch < c; ch++) {
          const share = DY[yb + ch]! / count;
          for (let k = 0; k < count; k++) {
            const at = cells[k]! + ch;
            DX[at] = DX[at]! + share;
          }
        }
      }
    }
  }
};
