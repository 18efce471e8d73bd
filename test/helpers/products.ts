// The products' test cases, shared: the four transpose layouts of a matmul,
// and a convolution's geometry with the shapes and attributes it implies.

import type { Pads, Pair } from "../../runtime/program/ops.js";

/** The four matmul layouts, (transA, transB): the benchmarks' cases are the tests'. */
export { LAYOUTS } from "../../bench/args.js";

export interface ConvCase {
  /** x is [n, h, w, c]; the kernel [kh, kw, c / groups, o]. */
  readonly x: readonly [number, number, number, number];
  /** kh, kw, output channels. */
  readonly k: readonly [number, number, number];
  readonly stride: Pair;
  readonly pad: Pads;
  readonly dilation?: Pair;
  readonly groups?: number;
}

export function convAttrs(cs: ConvCase): { stride: Pair; pad: Pads; dilation: Pair; groups: number } {
  return { stride: cs.stride, pad: cs.pad, dilation: cs.dilation ?? [1, 1], groups: cs.groups ?? 1 };
}

export function kernelShape(cs: ConvCase): [number, number, number, number] {
  return [cs.k[0], cs.k[1], cs.x[3] / (cs.groups ?? 1), cs.k[2]];
}

export function outputShape(cs: ConvCase): [number, number, number, number] {
  const { x, k, stride, pad } = cs;
  const [dh, dw] = cs.dilation ?? [1, 1];
  return [x[0], Math.floor((x[1] + pad[0] + pad[1] - (k[0] - 1) * dh - 1) / stride[0]) + 1, Math.floor((x[2] + pad[2] + pad[3] - (k[1] - 1) * dw - 1) / stride[1]) + 1, k[2]];
}
