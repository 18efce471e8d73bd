// Where a convolution reads its source through a tap, in WGSL: the index
// arithmetic both kernel families share. A result pixel (y, x) of conv2d
// reads the input at (y * stride + ky * dilation - pad); the input gradient
// gathers dy at the pixel that read it, (y + pad - ky * dilation) / stride,
// where that divides evenly. Taps outside the source are padding: the caller
// selects zero for them, and the index stays in range either way.

import type { ConvAttrs } from "../../../runtime/program/ops.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import type { Emitter } from "./expr.js";

/** ` + grp * n`, the offset of the workgroup's group in units of n channels (nothing without groups). */
export const groupOffset = (groups: number, n: number) => (groups === 1 ? "" : ` + grp * ${n}u`);

/** A tap's offset along one axis, `ky` or `ky * dilation`. */
export const dilated = (tap: string, d: number) => (d === 1 ? tap : `${tap} * ${d}`);

export interface SourceImage {
  /** conv2d reads its input forward; the input gradient reads dy backward. */
  readonly forward: boolean;
  readonly attrs: ConvAttrs;
  /** The source's height, width and channels ([N, height, width, channels], NHWC). */
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/**
 * conv2d and conv2dInputGrad as rows of result pixels: the result [N, RH, RW,
 * cols] from the source p [N, SH, SW, depth] (x for conv2d, dy for the input
 * gradient) through the kernel q [KH, KW, C, O], channels split into groups.
 */
export interface PixelRows {
  readonly p: Node;
  readonly q: Node;
  readonly forward: boolean;
  readonly groups: number;
  readonly RH: number;
  readonly RW: number;
  readonly cols: number;
  readonly KH: number;
  readonly KW: number;
  readonly C: number;
  readonly O: number;
  /** The result's and the source's channels per group. */
  readonly colsG: number;
  readonly depthG: number;
  readonly source: SourceImage;
}

export function pixelRowsOf(conv: NodeOf<"conv2d"> | NodeOf<"conv2dInputGrad">): PixelRows {
  const [p, q] = [inputAt(conv, 0), inputAt(conv, 1)];
  const { groups } = conv.attrs;
  const forward = conv.op === "conv2d";
  const [, RH, RW, cols] = conv.shape as number[];
  const [, SH, SW, depth] = p.shape as number[];
  const [KH, KW, C, O] = q.shape as number[];
  return { p, q, forward, groups, RH, RW, cols, KH, KW, C, O, colsG: cols / groups, depthG: depth / groups, source: { forward, attrs: conv.attrs, height: SH, width: SW, channels: depth } };
}

/** The i32 coordinates of a result pixel and a tap, and the u32 image, as WGSL expressions. */
export interface TapAt {
  readonly y: string;
  readonly x: string;
  readonly ky: string;
  readonly kx: string;
  readonly img: string;
}

/**
 * Emits the source pixel `sy${s}`, `sx${s}` that result pixel (y, x) reads through tap (ky, kx),
 * `ok${s}`, whether it lies inside the source, and `src${s}`, the flat index of its first
 * channel plus `channel` (0 outside, so that a read there stays in range).
 */
export function sourcePixel(e: Emitter, g: SourceImage, at: TapAt, s: string, channel: string): void {
  const { stride: [sh, sw], pad: [pt, , pl], dilation: [dh, dw] } = g.attrs;
  const { y, x, ky, kx, img } = at;
  if (g.forward) {
    e.line(`let sy${s} = ${y} * ${sh} + ${dilated(ky, dh)} - ${pt}; let sx${s} = ${x} * ${sw} + ${dilated(kx, dw)} - ${pl};`);
    e.line(`let ok${s} = sy${s} >= 0 && sy${s} < ${g.height} && sx${s} >= 0 && sx${s} < ${g.width};`);
  } else {
    // dx[iy] gathers dy[oy] for oy * stride + ky * dilation - pad = iy.
    e.line(`let ty${s} = ${y} + ${pt} - ${dilated(ky, dh)}; let tx${s} = ${x} + ${pl} - ${dilated(kx, dw)};`);
    e.line(`let sy${s} = ty${s} / ${sh}; let sx${s} = tx${s} / ${sw};`);
    const divisible = (v: string, st: number) => (st === 1 ? "" : ` && ${v} % ${st} == 0`);
    e.line(`let ok${s} = ty${s} >= 0 && tx${s} >= 0 && sy${s} < ${g.height} && sx${s} < ${g.width}${divisible(`ty${s}`, sh)}${divisible(`tx${s}`, sw)};`);
  }
  e.line(`let src${s} = select(0u, ((${img} * ${g.height}u + u32(sy${s})) * ${g.width}u + u32(sx${s})) * ${g.channels}u${channel}, ok${s});`);
}
