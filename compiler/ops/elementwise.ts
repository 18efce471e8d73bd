// Elementwise primitives: equal shapes in, the same shape out. Everything
// about each op (dtype rule, derivative, formulas) is its entry in
// runtime/program/elementwise.ts, and its type rule is read off that entry in
// runtime/program/shapes/elementwise.ts; this file applies the entry's
// derivative to graph nodes.

import { BINARY_OPS, ELEMENTWISE, ELEMENTWISE_OPS, UNARY_OPS, type ElementwiseOp, type ScalarBuilder } from "../../runtime/program/elementwise.js";
import type { Node } from "../ir/node.js";
import { binary, full, unary, where } from "./build.js";
import type { OpDef, OpTable } from "./types.js";

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
    vjp: (node, g) => {
      const y = node as Node;
      return def.vjp(builderFor(y), y.inputs, y, g);
    },
  };
}

export const ELEMENTWISE_DEFS = Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, define(op)])) as OpTable<ElementwiseOp>;
