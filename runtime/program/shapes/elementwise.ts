// The type rule of every elementwise op, read off its entry in the op table
// (../elementwise.ts): equal shapes in, the same shape out, with the dtypes
// its `operands` and `result` fields state.

import { formatShape, shapeEq } from "../dim.js";
import { ELEMENTWISE, ELEMENTWISE_OPS, type ElementwiseOp } from "../elementwise.js";
import type { DType } from "../ops.js";
import { ShapeError, type TensorType, type TypeRule, type TypeRules } from "./rule.js";

function sameShapes(op: string, types: readonly TensorType[]): void {
  const [first, ...rest] = types;
  for (const t of rest) {
    if (first && !shapeEq(t.shape, first.shape)) {
      throw new ShapeError(`${op}: operand shapes differ: ${formatShape(first.shape)} and ${formatShape(t.shape)}`, "broadcast the operands to one shape first");
    }
  }
}

function requireDType(op: string, t: TensorType, dtype: DType): void {
  if (t.dtype !== dtype) throw new ShapeError(`${op} needs ${dtype} operands, got ${t.dtype}`, `cast(x, "${dtype}") converts`);
}

function sameDTypes(op: string, what: "operand" | "branch", a: TensorType, b: TensorType): void {
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: ${what} dtypes differ: ${a.dtype} and ${b.dtype}`, `cast one ${what}`);
}

function infer(op: ElementwiseOp, types: readonly TensorType[], to: DType | undefined): TensorType {
  const def = ELEMENTWISE[op];
  const [x, a, b] = types;
  if (!x) throw new ShapeError(`${op} has no operands`, "the op's arity was not checked");
  sameShapes(op, types);
  if (def.operands === "f32") requireDType(op, x, "f32");
  if (def.operands === "select" && a && b) {
    requireDType(`${op} (condition)`, x, "i32");
    sameDTypes(op, "branch", a, b);
    return a;
  }
  if (a) sameDTypes(op, "operand", x, a);
  const dtype = def.result === "i32" ? "i32" : def.result === "cast" ? (to ?? x.dtype) : x.dtype;
  return { shape: x.shape, dtype };
}

function rule(op: ElementwiseOp): TypeRule<ElementwiseOp> {
  return { arity: ELEMENTWISE[op].arity, infer: (inputs, attrs) => infer(op, inputs, "to" in attrs ? attrs.to : undefined) };
}

export const ELEMENTWISE_TYPES = Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, rule(op)])) as TypeRules<ElementwiseOp>;
