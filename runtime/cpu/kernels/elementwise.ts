// Elementwise kernels over operands of equal shape (the IR makes every
// broadcast explicit). The op is chosen outside the loop.

import type { BinaryOp, UnaryOp } from "../../program/ops.js";
import type { Data } from "../ndarray.js";
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

/** Integer division and powers never reach here: the frontend computes them in f32. */
function unary(f: Unary): Kernel<UnaryOp> {
  return (out, [x]) => {
    const o = out.data;
    const a = x!.data;
    for (let i = 0; i < o.length; i++) o[i] = f(a[i]!);
  };
}

function binary(op: BinaryOp): Kernel<BinaryOp> {
  const f = BINARY_FN[op];
  // The common arithmetic ops get loops of their own; a closure call per element costs more.
  const loops: Partial<Record<BinaryOp, (o: Data, a: Data, b: Data) => void>> = {
    add: (o, a, b) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! + b[i]!; },
    sub: (o, a, b) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! - b[i]!; },
    mul: (o, a, b) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! * b[i]!; },
    div: (o, a, b) => { for (let i = 0; i < o.length; i++) o[i] = a[i]! / b[i]!; },
  };
  const loop = loops[op] ?? ((o: Data, a: Data, b: Data) => { for (let i = 0; i < o.length; i++) o[i] = f(a[i]!, b[i]!); });
  return (out, [a, b]) => loop(out.data, a!.data, b!.data);
}

export const ELEMENTWISE_KERNELS: KernelTable<UnaryOp | BinaryOp | "where" | "cast" | "stopGradient"> = {
  neg: unary(UNARY_FN.neg),
  exp: unary(UNARY_FN.exp),
  log: unary(UNARY_FN.log),
  sqrt: unary(UNARY_FN.sqrt),
  tanh: unary(UNARY_FN.tanh),
  abs: unary(UNARY_FN.abs),
  sign: unary(UNARY_FN.sign),
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
