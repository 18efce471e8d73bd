// Pooling over NHWC windows. Cells outside the input (padding) never win a
// max and are not counted in an average; a max window's gradient goes to its
// first maximal cell in row-major window order.

import type { WindowAttrs } from "../../program/ops.js";
import type { Kernel } from "./types.js";

/** Calls `visit(outOffset, cells)` per output position with the input offsets (channel 0) of the window's in-bounds cells. */
function forEachWindow(inShape: readonly number[], outShape: readonly number[], { size, stride, pad }: WindowAttrs, visit: (yBase: number, cells: number[]) => void): void {
  const [n, h, w, c] = inShape as [number, number, number, number];
  const [, oh, ow] = outShape as [number, number, number, number];
  const cells: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        cells.length = 0;
        for (let ky = 0; ky < size[0]; ky++) {
          const iy = oy * stride[0] + ky - pad[0];
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < size[1]; kx++) {
            const ix = ox * stride[1] + kx - pad[2];
            if (ix >= 0 && ix < w) cells.push(((b * h + iy) * w + ix) * c);
          }
        }
        visit(((b * oh + oy) * ow + ox) * c, cells);
      }
    }
  }
}

export const maxPool2d: Kernel<"maxPool2d"> = (out, [x], attrs) => {
  const X = x!.data;
  const Y = out.data;
  const c = x!.shape[3]!;
  forEachWindow(x!.shape, out.shape, attrs, (yb, cells) => {
    for (let ch = 0; ch < c; ch++) {
      let m = -Infinity;
      for (const cell of cells) if (X[cell + ch]! > m) m = X[cell + ch]!;
      Y[yb + ch] = m;
    }
  });
};

export const maxPool2dGrad: Kernel<"maxPool2dGrad"> = (out, [x, dy], attrs) => {
  const X = x!.data;
  const DY = dy!.data;
  const DX = out.data;
  DX.fill(0);
  const c = x!.shape[3]!;
  forEachWindow(x!.shape, dy!.shape, attrs, (yb, cells) => {
    for (let ch = 0; ch < c; ch++) {
      let best = cells[0]!;
      for (const cell of cells) if (X[cell + ch]! > X[best + ch]!) best = cell;
      DX[best + ch] = DX[best + ch]! + DY[yb + ch]!;
    }
  });
};

export const avgPool2d: Kernel<"avgPool2d"> = (out, [x], attrs) => {
  const X = x!.data;
  const Y = out.data;
  const c = x!.shape[3]!;
  forEachWindow(x!.shape, out.shape, attrs, (yb, cells) => {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (const cell of cells) s += X[cell + ch]!;
      Y[yb + ch] = s / cells.length;
    }
  });
};

export const avgPool2dGrad: Kernel<"avgPool2dGrad"> = (out, [dy], attrs) => {
  const DY = dy!.data;
  const DX = out.data;
  DX.fill(0);
  const c = out.shape[3]!;
  forEachWindow(out.shape, dy!.shape, attrs, (yb, cells) => {
    for (let ch = 0; ch < c; ch++) {
      const share = DY[yb + ch]! / cells.length;
      for (const cell of cells) DX[cell + ch] = DX[cell + ch]! + share;
    }
  });
};
