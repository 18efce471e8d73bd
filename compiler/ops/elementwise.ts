// Elementwise primitives: equal shapes in, the same shape out.
//
// Gradient conventions at the points where the derivative is undefined:
//   abs'(0) = 0 (sign(0) = 0); maximum(a, b) and minimum(a, b) send the whole
//   gradient to b on ties, so relu(x) = maximum(x, 0) has relu'(0) = 0 as in
//   PyTorch and JAX; pow(a, b) gives b a zero gradient where a <= 0 (log a is
//   undefined there). Comparisons, sign and casts to i32 pass no gradient.

import { shapeEq, formatShape } from "../../runtime/program/dim.js";
import type { BinaryOp, DType, UnaryOp } from "../../runtime/program/ops.js";
import type { Node, TensorType } from "../ir/node.js";
import { binary, div, full, mul, neg, scale, sub, unary, where, zerosLike } from "./build.js";
import { ShapeError, type OpDef, type OpTable } from "./types.js";

function sameShapes(op: string, types: readonly TensorType[]): void {
  for (const t of types.slice(1)) {
    if (!shapeEq(t.shape, types[0]!.shape)) {
      throw new ShapeError(`${op}: operand shapes differ: ${formatShape(types[0]!.shape)} and ${formatShape(t.shape)}`, "broadcast the operands to one shape first");
    }
  }
}

function requireDType(op: string, t: TensorType, dtype: DType): void {
  if (t.dtype !== dtype) throw new ShapeError(`${op} needs ${dtype} operands, got ${t.dtype}`, `cast(x, "${dtype}") converts`);
}

function unaryDef(op: UnaryOp, floatOnly: boolean, vjp: (x: Node, y: Node, g: Node) => Node | undefined): OpDef<UnaryOp> {
  return {
    arity: 1,
    infer: ([x]) => {
      if (floatOnly) requireDType(op, x!, "f32");
      return x!;
    },
    vjp: (node, g) => [vjp(node.inputs[0]!, node, g)],
  };
}

function binaryDef(
  op: BinaryOp,
  result: "same" | "i32",
  vjp: (a: Node, b: Node, y: Node, g: Node) => readonly [Node | undefined, Node | undefined],
): OpDef<BinaryOp> {
  return {
    arity: 2,
    infer: ([a, b]) => {
      sameShapes(op, [a!, b!]);
      if (a!.dtype !== b!.dtype) throw new ShapeError(`${op}: operand dtypes differ: ${a!.dtype} and ${b!.dtype}`, "cast one operand");
      return { shape: a!.shape, dtype: result === "i32" ? "i32" : a!.dtype };
    },
    vjp: (node, g) => vjp(node.inputs[0]!, node.inputs[1]!, node, g),
  };
}

const noGradient = () => [undefined, undefined] as const;
const gt = (a: Node, b: Node) => binary("greater", a, b);
const lt = (a: Node, b: Node) => binary("less", a, b);

export const ELEMENTWISE: OpTable<UnaryOp | BinaryOp | "where" | "cast" | "stopGradient"> = {
  neg: unaryDef("neg", false, (_x, _y, g) => neg(g)),
  exp: unaryDef("exp", true, (_x, y, g) => mul(g, y)),
  log: unaryDef("log", true, (x, _y, g) => div(g, x)),
  sqrt: unaryDef("sqrt", true, (_x, y, g) => div(scale(g, 0.5), y)),
  tanh: unaryDef("tanh", true, (_x, y, g) => mul(g, sub(full(1, y.shape), mul(y, y)))),
  abs: unaryDef("abs", false, (x, _y, g) => (x.dtype === "f32" ? mul(g, unary("sign", x)) : undefined)),
  sign: unaryDef("sign", false, () => undefined),

  add: binaryDef("add", "same", (_a, _b, _y, g) => [g, g]),
  sub: binaryDef("sub", "same", (_a, _b, _y, g) => [g, neg(g)]),
  mul: binaryDef("mul", "same", (a, b, _y, g) => [mul(g, b), mul(g, a)]),
  div: binaryDef("div", "same", (_a, b, y, g) => [div(g, b), neg(div(mul(g, y), b))]),
  maximum: binaryDef("maximum", "same", (a, b, _y, g) => {
    const first = gt(a, b);
    return [where(first, g, zerosLike(g)), where(first, zerosLike(g), g)];
  }),
  minimum: binaryDef("minimum", "same", (a, b, _y, g) => {
    const first = lt(a, b);
    return [where(first, g, zerosLike(g)), where(first, zerosLike(g), g)];
  }),
  pow: binaryDef("pow", "same", (a, b, y, g) => {
    const da = mul(g, mul(b, binary("pow", a, sub(b, full(1, b.shape)))));
    if (b.op === "const") return [da, undefined];
    const positive = gt(a, zerosLike(a));
    const safeA = where(positive, a, full(1, a.shape));
    return [da, where(positive, mul(g, mul(y, unary("log", safeA))), zerosLike(g))];
  }),
  greater: binaryDef("greater", "i32", noGradient),
  less: binaryDef("less", "i32", noGradient),
  equal: binaryDef("equal", "i32", noGradient),

  where: {
    arity: 3,
    infer: ([c, a, b]) => {
      sameShapes("where", [c!, a!, b!]);
      requireDType("where (condition)", c!, "i32");
      if (a!.dtype !== b!.dtype) throw new ShapeError(`where: branch dtypes differ: ${a!.dtype} and ${b!.dtype}`, "cast one branch");
      return a!;
    },
    vjp: (node, g) => {
      const c = node.inputs[0]!;
      return [undefined, where(c, g, zerosLike(g)), where(c, zerosLike(g), g)];
    },
  },
  cast: {
    arity: 1,
    infer: ([x], { to }) => ({ shape: x!.shape, dtype: to }),
    vjp: (node, g) => [node.inputs[0]!.dtype === "f32" && node.dtype === "f32" ? g : undefined],
  },
  stopGradient: {
    arity: 1,
    infer: ([x]) => x!,
    vjp: () => [undefined],
  },
};

