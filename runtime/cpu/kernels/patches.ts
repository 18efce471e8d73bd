// Where the taps of a convolution's windows read x: the geometry of an NHWC
// input, an [N, OH, OW, O] output and a dilated, grouped kernel, the output
// positions in order, and the offset of each (position, tap) in x. Shared by
// the GEMM convolutions (conv.ts) and the direct depthwise ones (depthwise.ts).

import type { ConvAttrs, Pair } from "../../program/ops.js";

export interface Geometry {
  n: number; h: number; w: number;
  /** x's channels (its row stride), those of one group, and the first of the group being computed. */
  c: number; cg: number; c0: number;
  oh: number; ow: number; o: number;
  kh: number; kw: number;
  sh: number; sw: number; pt: number; pl: number; dh: number; dw: number;
}

export function geometry(x: readonly number[], y: readonly number[], k: Pair, { stride, pad, dilation, groups }: ConvAttrs): Geometry {
  const c = x[3]!;
  return {
    n: x[0]!, h: x[1]!, w: x[2]!, c, cg: c / groups, c0: 0,
    oh: y[1]!, ow: y[2]!, o: y[3]!, kh: k[0], kw: k[1],
    sh: stride[0], sw: stride[1], pt: pad[0], pl: pad[2], dh: dilation[0], dw: dilation[1],
  };
}

/** The geometry of group `grp`: its channels of x start at grp · cg. */
export function ofGroup(g: Geometry, grp: number): Geometry {
  return { ...g, c0: grp * g.cg };
}

/**
 * Output positions in row-major order, stepped one at a time: position
 * (b, oy, ox), whose window starts at input row y0 and column x0.
 */
export class Positions {
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
 * of the row if it all lies inside x and its taps are adjacent in memory
 * (undilated, every channel of x), else just this one.
 */
export function runOfTaps(g: Geometry, s: number, x0: number, kx: number): number {
  return s >= 0 && g.dw === 1 && g.cg === g.c && x0 + g.kw <= g.w ? g.kw - kx : 1;
}

/** The offset of x[b, y0 + ky·dh, x0 + kx·dw, c0], or -1 if that is padding. */
export function tapOffset(g: Geometry, b: number, y0: number, x0: number, ky: number, kx: number): number {
  const iy = y0 + ky * g.dh;
  const ix = x0 + kx * g.dw;
  return iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? -1 : ((b * g.h + iy) * g.w + ix) * g.c + g.c0;
}
