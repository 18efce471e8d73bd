// The elementwise loops, one per primitive, over runs of operands at offsets:
// the unfused kernels call them on whole arrays, the fused groups on blocks.
// Each op has a loop of its own so that its arithmetic is inlined; a loop that
// called a function per element would see every op at one call site and run
// several times slower.

import type { BinaryOp, UnaryOp } from "../../program/ops.js";
import type { Data } from "../ndarray.js";

export type UnaryLoop = (o: Data, oo: number, x: Data, xo: number, n: number) => void;
export type BinaryLoop = (o: Data, oo: number, a: Data, ao: number, b: Data, bo: number, n: number) => void;

export const UNARY_LOOPS: { readonly [O in UnaryOp]: UnaryLoop } = {
  neg: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) o[oo + i] = -x[xo + i]!; },
  exp: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.exp(x[xo + i]!); },
  log: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.log(x[xo + i]!); },
  sqrt: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.sqrt(x[xo + i]!); },
  tanh: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.tanh(x[xo + i]!); },
  abs: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.abs(x[xo + i]!); },
  sign: (o, oo, x, xo, n) => { for (let i = 0; i < n; i++) { const v = x[xo + i]!; o[oo + i] = v > 0 ? 1 : v < 0 ? -1 : 0; } },
};

export const BINARY_LOOPS: { readonly [O in BinaryOp]: BinaryLoop } = {
  add: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! + b[bo + i]!; },
  sub: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! - b[bo + i]!; },
  mul: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! * b[bo + i]!; },
  div: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! / b[bo + i]!; },
  maximum: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) { const x = a[ao + i]!, y = b[bo + i]!; o[oo + i] = x > y ? x : y; } },
  minimum: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) { const x = a[ao + i]!, y = b[bo + i]!; o[oo + i] = x < y ? x : y; } },
  pow: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i]!, b[bo + i]!); },
  greater: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! > b[bo + i]! ? 1 : 0; },
  less: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! < b[bo + i]! ? 1 : 0; },
  equal: (o, oo, a, ao, b, bo, n) => { for (let i = 0; i < n; i++) o[oo + i] = a[ao + i]! === b[bo + i]! ? 1 : 0; },
};
