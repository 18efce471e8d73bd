// The primitive vocabulary: the closed set of operations that a dlc program is
// made of. The compiler's IR nodes and the runtime's programs speak it alike, so
// it lives with the runtime (which must not import the compiler) and the
// compiler targets it, the way a compiler imports its target's instruction set.
//
// Elementwise primitives are defined whole, once, in ./elementwise.ts (scalar
// formulas for every target, dtype rule, derivative, names). For the other
// families, the shape rule and gradient are in compiler/ops/<family>.ts, the
// CPU kernel in runtime/cpu/kernels/<family>.ts and the WGSL lowering in
// compiler/codegen/wgsl/. Tables keyed by `Op` tie them together, so the type
// checker refuses a primitive that is half added.

import type { Dim, Shape } from "./dim.js";
import { ELEMENTWISE_OPS, type ElementwiseOp } from "./elementwise.js";

export type DType = "f32" | "i32";

export { BINARY_OPS, UNARY_OPS, isBinary, isUnary, type BinaryOp, type ElementwiseOp, type UnaryOp } from "./elementwise.js";
export const REDUCE_OPS = ["sum", "max"] as const;
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

/**
 * A convolution's geometry, shared by conv2d and its two gradients. Taps are
 * `dilation` apart (a k-tap kernel spans (k - 1) * dilation + 1 cells); the
 * channels split into `groups` independent convolutions, so the kernel is
 * [kh, kw, in / groups, out] and output channel o reads the input channels of
 * group floor(o / (out / groups)).
 */
export interface ConvAttrs {
  readonly stride: Pair;
  readonly pad: Pads;
  readonly dilation: Pair;
  readonly groups: number;
}

type Unit = Record<never, never>;

/** Elementwise ops have no attributes, except a cast's target. */
type ElementwiseAttrs = { readonly [O in Exclude<ElementwiseOp, "cast">]: Unit } & { readonly cast: { readonly to: DType } };

/** The attributes of each primitive. The key set of this interface is the primitive set. */
export interface OpAttrs extends ElementwiseAttrs {
  // sources
  input: { readonly name: string; readonly shape: Shape; readonly dtype: DType };
  param: { readonly name: string; readonly shape: Shape; readonly init: Init };
  /** A tensor filled with one value; a string value is a symbolic size such as "batch". */
  const: { readonly value: number | Dim; readonly shape: Shape; readonly dtype: DType };
  /** 0, 1, 2, ... along `axis`, constant along the others. */
  iota: { readonly axis: number; readonly shape: Shape };
  /** Uniform in [0, 1) from an i32[2] key: Philox4x32-10 at counter (flat index, salt, 0, 0) (./philox.ts). */
  random: { readonly shape: Shape; readonly salt: number };
  // elementwise: see ./elementwise.ts (stopGradient is the identity with a zero gradient, removed after differentiation)
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
  conv2d: ConvAttrs;
  /** The gradient of conv2d with respect to its input: (dy, kernel) -> dx (also conv2dTranspose). */
  conv2dInputGrad: ConvAttrs & { readonly inputSize: Pair };
  /** The gradient of conv2d with respect to its kernel: (x, dy) -> dk. */
  conv2dFilterGrad: ConvAttrs & { readonly kernelSize: Pair };
  // windows
  maxPool2d: WindowAttrs;
  /** (x, dy) -> dx: each window's gradient goes to its first maximal element. */
  maxPool2dGrad: WindowAttrs;
  /** Averages over the window cells inside the input (padding is not counted). */
  avgPool2d: WindowAttrs;
  /** dy -> dx for avgPool2d. */
  avgPool2dGrad: WindowAttrs & { readonly inputSize: Pair };
  // gathers (indices are i32, clamped to [0, n - 1])
  /** (table, indices) -> table.shape[:axis] + indices.shape + table.shape[axis+1:]. */
  gather: { readonly axis: number };
  /** (updates, indices) -> zeros of the table's shape (`size` along `axis`) with each update added at its index: gather's adjoint. */
  scatterAdd: { readonly axis: number; readonly size: Dim };
  // scans
  /** Running sums along `axis`; exclusive leaves out the element itself, reverse runs from the end. */
  cumsum: { readonly axis: number; readonly exclusive: boolean; readonly reverse: boolean };
  // slicing (each the other's gradient; rules in ./shapes/slicing.ts)
  /** x[begin_i : begin_i + size_i] on every axis; a symbolic axis is taken whole (begin 0, size the axis). */
  slice: { readonly begin: readonly number[]; readonly size: Shape };
  /** `before[i]` and `after[i]` elements of `value` around axis i (0 on a symbolic axis). */
  pad: { readonly before: readonly number[]; readonly after: readonly number[]; readonly value: number };
}

export type Op = keyof OpAttrs;

export type OpFamily = "source" | "elementwise" | "reduce" | "movement" | "contraction" | "window" | "gather" | "scan";

/** Every primitive's family: the single list of primitives, checked complete by its type. */
export const OP_FAMILY: { readonly [O in Op]: OpFamily } = {
  input: "source", param: "source", const: "source", iota: "source", random: "source",
  ...(Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, "elementwise"])) as { readonly [O in ElementwiseOp]: "elementwise" }),
  sum: "reduce", max: "reduce", argmax: "reduce",
  reshape: "movement", broadcast: "movement", transpose: "movement",
  matmul: "contraction", conv2d: "contraction", conv2dInputGrad: "contraction", conv2dFilterGrad: "contraction",
  maxPool2d: "window", maxPool2dGrad: "window", avgPool2d: "window", avgPool2dGrad: "window",
  gather: "gather", scatterAdd: "gather",
  cumsum: "scan",
  slice: "movement", pad: "movement",
};

export const OPS = Object.keys(OP_FAMILY) as Op[];

export function isOp(s: string): s is Op {
  return Object.hasOwn(OP_FAMILY, s);
}
