// Elementwise kernels over operands of equal shape (the IR makes every
// broadcast explicit), and each op's scalar function (constant folding uses
// them, so that folding and running agree). The loops are in loops.ts.

import type { BinaryOp, UnaryOp } from "../../program/ops.js";
import { BINARY_LOOPS, UNARY_LOOPS } from "./loops.js";
import type { Kernel, KernelTable } from "./types.js";

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

export const UNARY_FN: { readonly [O in UnaryOp]: Unary } = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
};

export const BINARY_FN: { readonly [O in BinaryOp]: Binary } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a > b ? a : b),
  minimum: (a, b) => (a < b ? a : b),
  pow: Math.pow,
  greater: (a, b) => (a > b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
};

function unary(op: UnaryOp): Kernel<UnaryOp> {
  const loop = UNARY_LOOPS[op];
  return (out, [x]) => loop(out.data, 0, x!.data, 0, out.data.length);
}

function binary(op: BinaryOp): Kernel<BinaryOp> {
  const loop = BINARY_LOOPS[op];
  return (out, [a, b]) => loop(out.data, 0, a!.data, 0, b!.data, 0, out.data.length);
}

export const ELEMENTWISE_KERNELS: KernelTable<UnaryOp | BinaryOp | "where" | "cast" | "stopGradient"> = {
  neg: unary("neg"),
  exp: unary("exp"),
  log: unary("log"),
  sqrt: unary("sqrt"),
  tanh: unary("tanh"),
  abs: unary("abs"),
  sign: unary("sign"),
  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  maximum: binary("maximum"),
  minimum: binary("minimum"),
  pow: binary("pow"),
  greater: binary("greater"),
  less: binary("less"),
  equal: binary("equal"),
  where: (out, [c, a, b]) => {
    const o = out.data;
    const cd = c!.data;
    const ad = a!.data;
    const bd = b!.data;
    for (let i = 0; i < o.length; i++) o[i] = cd[i] !== 0 ? ad[i]! : bd[i]!;
  },
  cast: (out, [x], { to }) => {
    const o = out.data;
    const a = x!.data;
    // f32 -> i32 truncates toward zero, as WGSL's i32(f32) does for values in range.
    if (to === "i32") for (let i = 0; i < o.length; i++) o[i] = Math.trunc(a[i]!);
    else for (let i = 0; i < o.length; i++) o[i] = a[i]!;
  },
  stopGradient: "alias",
};
