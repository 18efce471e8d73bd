// Elementwise primitives: equal shapes in, the same shape out. Everything
// about each op (dtype rule, derivative, formulas) is its entry in
// runtime/program/elementwise.ts; this file turns those entries into the
// compiler's OpDefs: the type rule as a ShapeError-raising check, and the
// derivative applied to graph nodes.

import { formatShape, shapeEq } from "../../runtime/program/dim.js";
import { BINARY_OPS, ELEMENTWISE, ELEMENTWISE_OPS, UNARY_OPS, type ElementwiseOp, type ScalarBuilder } from "../../runtime/program/elementwise.js";
import type { DType } from "../../runtime/program/ops.js";
import type { Node, TensorType } from "../ir/node.js";
import { full, unary, binary, where } from "./build.js";
import { ShapeError, type OpDef, type OpTable } from "./types.js";

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

function sameDTypes(op: string, what: string, a: TensorType, b: TensorType): void {
  if (a.dtype !== b.dtype) throw new ShapeError(`${op}: ${what} dtypes differ: ${a.dtype} and ${b.dtype}`, `cast one ${what === "branch" ? "branch" : "operand"}`);
}

/** The type rule an entry's `operands` and `result` fields state. */
function infer(op: ElementwiseOp, types: readonly TensorType[], to: DType | undefined): TensorType {
  const def = ELEMENTWISE[op];
  const [x, a, b] = types as [TensorType, TensorType?, TensorType?];
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

/** Every unary and binary op as a function of nodes. */
const APPLY = Object.fromEntries([
  ...UNARY_OPS.map((op) => [op, (x: Node) => unary(op, x)] as const),
  ...BINARY_OPS.map((op) => [op, (a: Node, b: Node) => binary(op, a, b)] as const),
]) as Omit<ScalarBuilder<Node>, "where" | "lit" | "dtype" | "isConst">;

/** The derivative builder over graph nodes: constants take the shape of the op's output. */
function builderFor(y: Node): ScalarBuilder<Node> {
  return { ...APPLY, where, lit: (v) => full(v, y.shape), dtype: (x) => x.dtype, isConst: (x) => x.op === "const" };
}

function define(op: ElementwiseOp): OpDef<ElementwiseOp> {
  const def = ELEMENTWISE[op];
  return {
    arity: def.arity,
    infer: (inputs, attrs) => infer(op, inputs, "to" in attrs ? attrs.to : undefined),
    vjp: (node, g) => {
      const y = node as Node;
      return def.vjp(builderFor(y), y.inputs, y, g);
    },
  };
}

export const ELEMENTWISE_DEFS = Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, define(op)])) as OpTable<ElementwiseOp>;
