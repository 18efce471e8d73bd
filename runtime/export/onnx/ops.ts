// Each dlc primitive as ONNX operators (opset 17), one table entry per op, so
// that a primitive added to runtime/program/ops.ts is a type error here until
// it is either lowered or refused with a reason.
//
// What differs between the two and is handled here:
// - layouts: dlc's convolutions and pooling are NHWC with HWIO kernels, ONNX's
//   Conv/MaxPool/AveragePool NCHW with OIHW kernels: Transposes go around them
//   (onnxruntime folds the kernel's into the initializer);
// - dlc's pads are [top, bottom, left, right], ONNX's [top, left, bottom, right];
// - dlc masks and classes are i32, ONNX comparisons give bool and ArgMax int64:
//   Casts convert; `where` reads a nonzero i32 condition as true;
// - gather clamps its indices to [0, n - 1] where ONNX would fail: a Clip first;
// - `div` and `pow` promote i32 operands to f32 (7 / 2 is 3.5);
// - symbolic sizes stay symbolic: shapes are computed from the inputs' (builder.ts).

import type { Shape } from "../../program/dim.js";
import type { ElementwiseOp, Op } from "../../program/ops.js";
import type { ProgramNode } from "../../program/program.js";
import { elemType, type GraphBuilder } from "./builder.js";
import { DataType } from "./schema.js";

type NodeOf<O extends Op> = Extract<ProgramNode, { op: O }>;

export interface LowerContext {
  readonly g: GraphBuilder;
  /** The ONNX value of each input of the node, in order. */
  readonly inputs: readonly string[];
  /** The dlc type of each input. */
  readonly inputTypes: readonly { readonly shape: Shape; readonly dtype: ProgramNode["dtype"] }[];
}

/** A lowering returns the name of the ONNX value that holds the node's result. */
type Lowering<O extends Op> = (node: NodeOf<O>, cx: LowerContext) => string;
/** An op with no ONNX form: why, for the error that names it. */
interface Refusal {
  readonly refuse: string;
}

const GRADIENT_ONLY: Refusal = { refuse: "it occurs only in gradients and the training step; export an inference entry point such as predict" };

/** A lowering that reads nothing of its node but the result's dtype, so it serves any op. */
type Generic = (node: Pick<ProgramNode, "dtype">, cx: LowerContext) => string;

const unary = (opType: string): Generic => (_n, { g, inputs }) => g.op(opType, inputs);
const binary = unary;
/** A comparison: ONNX's bool result as dlc's i32 mask. */
const comparison = (opType: string): Generic => (_n, { g, inputs }) => g.op("Cast", [g.op(opType, inputs)], { to: DataType.INT32 });
/** True division and powers: i32 operands are promoted to f32 first. */
const promoting = (opType: string): Generic => (n, { g, inputs, inputTypes }) =>
  g.op(
    opType,
    inputs.map((x, i) => (inputTypes[i]!.dtype !== n.dtype ? g.op("Cast", [x], { to: elemType(n.dtype) }) : x)),
  );

const ELEMENTWISE: { readonly [O in ElementwiseOp]: Lowering<O> } = {
  neg: unary("Neg"),
  exp: unary("Exp"),
  log: unary("Log"),
  sqrt: unary("Sqrt"),
  tanh: unary("Tanh"),
  abs: unary("Abs"),
  sign: unary("Sign"),
  sin: unary("Sin"),
  cos: unary("Cos"),
  erf: unary("Erf"),
  softplus: unary("Softplus"),
  // ONNX has no log1p or expm1: the plain forms, which lose relative precision for |x| far below 1.
  log1p: (n, { g, inputs }) => g.op("Log", [g.op("Add", [inputs[0]!, g.scalar(1, n.dtype)])]),
  expm1: (n, { g, inputs }) => g.op("Sub", [g.op("Exp", inputs), g.scalar(1, n.dtype)]),
  add: binary("Add"),
  sub: binary("Sub"),
  mul: binary("Mul"),
  div: promoting("Div"),
  maximum: binary("Max"),
  minimum: binary("Min"),
  pow: promoting("Pow"),
  greater: comparison("Greater"),
  less: comparison("Less"),
  equal: comparison("Equal"),
  where: (_n, { g, inputs }) => g.op("Where", [g.op("Cast", [inputs[0]!], { to: DataType.BOOL }), inputs[1]!, inputs[2]!]),
  // f32 -> i32 truncates toward zero in both.
  cast: (n, { g, inputs }) => g.op("Cast", inputs, { to: elemType(n.attrs.to) }),
  stopGradient: unary("Identity"),
};

const NCHW = [0, 3, 1, 2];
const NHWC = [0, 2, 3, 1];
/** dlc's [top, bottom, left, right] as ONNX's [top, left, bottom, right]. */
const onnxPads = ([t, b, l, r]: readonly number[]) => [t!, l!, b!, r!];
/** An NHWC window op run in NCHW between two transposes. */
function inNchw(g: GraphBuilder, x: string, run: (nchw: string) => string): string {
  return g.op("Transpose", [run(g.op("Transpose", [x], { perm: NCHW }))], { perm: NHWC });
}

/** Swaps the last two axes of a rank-`rank` value. */
function swapLast(g: GraphBuilder, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return g.op("Transpose", [x], { perm });
}

export const LOWERINGS: { readonly [O in Op]: Lowering<O> | Refusal } = {
  ...(ELEMENTWISE as { readonly [O in ElementwiseOp]: Lowering<O> }),
  // Sources: inputs and parameters are bound by the exporter before lowering.
  input: { refuse: "inputs are graph inputs (bound before lowering)" },
  param: { refuse: "parameters are initializers (bound before lowering)" },
  const: (n, { g }) => {
    const { value, shape, dtype } = n.attrs;
    const scalar = typeof value === "number" ? g.scalar(value, dtype) : g.dimScalar(value, dtype);
    return shape.length === 0 ? scalar : g.op("Expand", [scalar, g.shape(shape)]);
  },
  iota: (n, { g }) => {
    const { axis, shape } = n.attrs;
    const line = g.op("Range", [g.scalar(0, "i32"), g.dimScalar(shape[axis]!, "i32"), g.scalar(1, "i32")]);
    const others = shape.map((_, i) => i).filter((i) => i !== axis);
    const placed = others.length === 0 ? line : g.op("Unsqueeze", [line, g.int64s(others)]);
    return g.op("Expand", [placed, g.shape(shape)]);
  },
  random: { refuse: "it draws random numbers (dropout's masks in training mode), which an exported inference graph does not; export an entry point that runs in inference mode" },
  // Reductions (keepdims 0: the reduced axes are removed, as in dlc).
  sum: (n, { g, inputs }) => (n.attrs.axes.length === 0 ? g.op("Identity", inputs) : g.op("ReduceSum", [inputs[0]!, g.int64s(n.attrs.axes)], { keepdims: 0 })),
  max: (n, { g, inputs }) => (n.attrs.axes.length === 0 ? g.op("Identity", inputs) : g.op("ReduceMax", inputs, { axes: n.attrs.axes, keepdims: 0 })),
  // Both take the first of equal maxima.
  argmax: (n, { g, inputs }) => g.op("Cast", [g.op("ArgMax", inputs, { axis: n.attrs.axis, keepdims: 0, select_last_index: 0 })], { to: DataType.INT32 }),
  // Movement
  reshape: (n, { g, inputs }) => g.op("Reshape", [inputs[0]!, g.shape(n.attrs.shape)], { allowzero: 1 }),
  broadcast: (n, { g, inputs }) => {
    // dims are increasing: the new axes are the others, inserted by Unsqueeze, then Expand grows the 1s.
    const { shape, dims } = n.attrs;
    const added = shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const placed = added.length === 0 ? inputs[0]! : g.op("Unsqueeze", [inputs[0]!, g.int64s(added)]);
    return g.op("Expand", [placed, g.shape(shape)]);
  },
  transpose: (n, { g, inputs }) => g.op("Transpose", inputs, { perm: n.attrs.perm }),
  // Contractions
  matmul: (n, { g, inputs }) => {
    const rank = n.shape.length;
    const a = n.attrs.transA ? swapLast(g, inputs[0]!, rank) : inputs[0]!;
    const b = n.attrs.transB ? swapLast(g, inputs[1]!, rank) : inputs[1]!;
    return g.op("MatMul", [a, b]);
  },
  conv2d: (n, { g, inputs }) => {
    const { stride, pad, dilation, groups } = n.attrs;
    // HWIO [kh, kw, in / groups, out] -> OIHW [out, in / groups, kh, kw]
    const kernel = g.op("Transpose", [inputs[1]!], { perm: [3, 2, 0, 1] });
    return inNchw(g, inputs[0]!, (x) => g.op("Conv", [x, kernel], { strides: stride, pads: onnxPads(pad), dilations: dilation, group: groups }));
  },
  conv2dInputGrad: GRADIENT_ONLY,
  conv2dFilterGrad: GRADIENT_ONLY,
  // Windows: padding cells never win a max and are not counted in an average, in both.
  maxPool2d: (n, { g, inputs }) => {
    const { size, stride, pad } = n.attrs;
    return inNchw(g, inputs[0]!, (x) => g.op("MaxPool", [x], { kernel_shape: size, strides: stride, pads: onnxPads(pad) }));
  },
  maxPool2dGrad: GRADIENT_ONLY,
  avgPool2d: (n, { g, inputs }) => {
    const { size, stride, pad } = n.attrs;
    return inNchw(g, inputs[0]!, (x) => g.op("AveragePool", [x], { kernel_shape: size, strides: stride, pads: onnxPads(pad), count_include_pad: 0 }));
  },
  avgPool2dGrad: GRADIENT_ONLY,
  // Gathers
  gather: (n, { g, inputs, inputTypes }) => {
    const axis = n.attrs.axis;
    const size = inputTypes[0]!.shape[axis]!;
    const last = typeof size === "number" ? g.scalar(size - 1, "i32") : g.op("Sub", [g.dimScalar(size, "i32"), g.scalar(1, "i32")]);
    const clamped = g.op("Min", [g.op("Max", [inputs[1]!, g.scalar(0, "i32")]), last]);
    return g.op("Gather", [inputs[0]!, clamped], { axis });
  },
  scatterAdd: GRADIENT_ONLY,
  // Scans
  cumsum: (n, { g, inputs }) => g.op("CumSum", [inputs[0]!, g.constant([], BigInt64Array.of(BigInt(n.attrs.axis)))], { exclusive: n.attrs.exclusive ? 1 : 0, reverse: n.attrs.reverse ? 1 : 0 }),
  // Slicing: a symbolic axis is always whole, so only static axes are cut or grown.
  slice: (n, { g, inputs, inputTypes }) => {
    const from = inputTypes[0]!.shape;
    const axes = from.map((_, i) => i).filter((i) => typeof from[i] === "number" && (n.attrs.begin[i] !== 0 || n.attrs.size[i] !== from[i]));
    if (axes.length === 0) return g.op("Identity", inputs);
    const starts = axes.map((i) => n.attrs.begin[i]!);
    const ends = axes.map((i) => n.attrs.begin[i]! + (n.attrs.size[i] as number));
    return g.op("Slice", [inputs[0]!, g.int64s(starts), g.int64s(ends), g.int64s(axes)]);
  },
  pad: (n, { g, inputs }) => {
    const { before, after, value } = n.attrs;
    if ([...before, ...after].every((p) => p === 0)) return g.op("Identity", inputs);
    return g.op("Pad", [inputs[0]!, g.int64s([...before, ...after]), g.scalar(value, n.dtype)]); // mode "constant", the default
  },
};

export const isRefusal = (l: object): l is Refusal => "refuse" in l;

/** Any op's lowering, applied to a node of that op. */
export type AnyLowering = (node: ProgramNode, cx: LowerContext) => string;

export type { Lowering, Refusal };
