// What the compiler knows about each primitive: its type rule and its gradient.

import type { Node, NodeOf, Op, OpAttrs, TensorType } from "../ir/node.js";

/** A shape or dtype rule was violated. The frontend adds the source location. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

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

export interface OpDef<O extends Op> {
  /** The number of inputs. */
  readonly arity: number;
  /** The output type, or a ShapeError. */
  readonly infer: (inputs: readonly TensorType[], attrs: OpAttrs[O]) => TensorType;
  readonly vjp: Vjp<O>;
}

export type OpTable<K extends Op> = { readonly [O in K]: OpDef<O> };
