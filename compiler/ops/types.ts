// What the compiler adds to each primitive: its gradient. The type rules are
// shared with the runtime, which re-checks artifacts with them
// (runtime/program/shapes); elementwise ops are whole in runtime/program/elementwise.ts.

import type { Node, NodeOf, Op } from "../ir/node.js";

/** A shape or dtype rule was violated (the rules are in runtime/program/shapes). The frontend adds the source location. */
export { ShapeError } from "../../runtime/program/shapes/index.js";

/** A graph asked for a gradient that dlc does not define (reported as a diagnostic). */
export class NotDifferentiableError extends Error {
  constructor(
    readonly op: Op,
    readonly hint: string,
  ) {
    super(`cannot differentiate through ${op}`);
  }
}

/**
 * The vector-Jacobian product: given the node and the cotangent `g` of its
 * output, the cotangent of each input, or undefined where it is zero (integer
 * inputs, piecewise-constant ops).
 */
export type Vjp<O extends Op> = (node: NodeOf<O>, g: Node) => readonly (Node | undefined)[];

/** What the compiler adds to a primitive's type rule (runtime/program/shapes): its derivative. */
export interface OpDef<O extends Op> {
  readonly vjp: Vjp<O>;
}

export type OpTable<K extends Op> = { readonly [O in K]: OpDef<O> };
