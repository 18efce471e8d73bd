// The primitive vocabulary: the closed set of operations that a dlc program is
// made of. The compiler's IR nodes and the runtime's programs speak it alike, so
// it lives with the runtime (which must not import the compiler) and the
// compiler targets it, the way a compiler imports its target's instruction set.
//
// What each primitive means, its shape rule and its gradient are in
// compiler/ops/<family>.ts; its CPU kernel is in runtime/cpu/kernels/<family>.ts;
// its WGSL lowering in compiler/codegen/wgsl/. Tables keyed by `Op` tie them
// together, so the type checker refuses a primitive that is half added.

import type { Dim, Shape } from "./dim.js";

export type DType = "f32" | "i32";

export const UNARY_OPS = ["neg", "exp", "log", "sqrt", "tanh", "abs", "sign"] as const;
export const BINARY_OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "greater", "less", "equal"] as const;
export const REDUCE_OPS = ["sum", "max"] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** How a parameter is initialized. Fans are read off the shape (see runtime/init/init.ts). */
export type Init =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "const"; value: number }
  | { kind: "he" } // normal, std sqrt(2 / fanIn)
  | { kind: "glorot" } // uniform, limit sqrt(6 / (fanIn + fanOut))
  | { kind: "lecun" } // normal, std sqrt(1 / fanIn)
  | { kind: "normal"; std: number }
  | { kind: "uniform"; limit: number };

export type Pair = readonly [number, number];
/** Explicit padding: top, bottom, left, right. */
export type Pads = readonly [number, number, number, number];

export interface WindowAttrs {
  readonly size: Pair;
  readonly stride: Pair;
  readonly pad: Pads;
}

type Unit = Record<never, never>;

/** The attributes of each primitive. The key set of this interface is the primitive set. */
export interface OpAttrs {
  // sources
  input: { readonly name: string; readonly shape: Shape; readonly dtype: DType };
  param: { readonly name: string; readonly shape: Shape; readonly init: Init };
  /** A tensor filled with one value; a string value is a symbolic size such as "batch". */
  const: { readonly value: number | Dim; readonly shape: Shape; readonly dtype: DType };
  /** 0, 1, 2, ... along `axis`, constant along the others. */
  iota: { readonly axis: number; readonly shape: Shape };
  // elementwise
  neg: Unit; exp: Unit; log: Unit; sqrt: Unit; tanh: Unit; abs: Unit; sign: Unit;
  add: Unit; sub: Unit; mul: Unit; div: Unit; maximum: Unit; minimum: Unit; pow: Unit;
  greater: Unit; less: Unit; equal: Unit;
  where: Unit;
  cast: { readonly to: DType };
  /** The identity, with a zero gradient. Removed after differentiation. */
  stopGradient: Unit;
  // reductions: the listed axes are removed from the shape
  sum: { readonly axes: readonly number[] };
  max: { readonly axes: readonly number[] };
  argmax: { readonly axis: number };
  // movement
  reshape: { readonly shape: Shape };
  /** Output axis dims[i] takes input axis i (whose size is 1 or the output's); other axes are new. */
  broadcast: { readonly shape: Shape; readonly dims: readonly number[] };
  transpose: { readonly perm: readonly number[] };
  // contractions, NHWC / HWIO
  /** Batched over leading axes; transA/transB read an operand's last two axes swapped. */
  matmul: { readonly transA: boolean; readonly transB: boolean };
  conv2d: { readonly stride: Pair; readonly pad: Pads };
  /** The gradient of conv2d with respect to its input: (dy, kernel) -> dx. */
  conv2dInputGrad: { readonly stride: Pair; readonly pad: Pads; readonly inputSize: Pair };
  /** The gradient of conv2d with respect to its kernel: (x, dy) -> dk. */
  conv2dFilterGrad: { readonly stride: Pair; readonly pad: Pads; readonly kernelSize: Pair };
  // windows
  maxPool2d: WindowAttrs;
  /** (x, dy) -> dx: each window's gradient goes to its first maximal element. */
  maxPool2dGrad: WindowAttrs;
  /** Averages over the window cells inside the input (padding is not counted). */
  avgPool2d: WindowAttrs;
  /** dy -> dx for avgPool2d. */
  avgPool2dGrad: WindowAttrs & { readonly inputSize: Pair };
}

export type Op = keyof OpAttrs;

export type OpFamily = "source" | "elementwise" | "reduce" | "movement" | "contraction" | "window";

/** Every primitive's family: the single list of primitives, checked complete by its type. */
export const OP_FAMILY: { readonly [O in Op]: OpFamily } = {
  input: "source", param: "source", const: "source", iota: "source",
  neg: "elementwise", exp: "elementwise", log: "elementwise", sqrt: "elementwise", tanh: "elementwise",
  abs: "elementwise", sign: "elementwise",
  add: "elementwise", sub: "elementwise", mul: "elementwise", div: "elementwise", maximum: "elementwise",
  minimum: "elementwise", pow: "elementwise", greater: "elementwise", less: "elementwise", equal: "elementwise",
  where: "elementwise", cast: "elementwise", stopGradient: "elementwise",
  sum: "reduce", max: "reduce", argmax: "reduce",
  reshape: "movement", broadcast: "movement", transpose: "movement",
  matmul: "contraction", conv2d: "contraction", conv2dInputGrad: "contraction", conv2dFilterGrad: "contraction",
  maxPool2d: "window", maxPool2dGrad: "window", avgPool2d: "window", avgPool2dGrad: "window",
};

export const OPS = Object.keys(OP_FAMILY) as Op[];

export function isOp(s: string): s is Op {
  return Object.hasOwn(OP_FAMILY, s);
}

export function isUnary(op: Op): op is UnaryOp {
  return (UNARY_OPS as readonly string[]).includes(op);
}
export function isBinary(op: Op): op is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(op);
}
