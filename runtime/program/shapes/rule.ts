// What a type rule is: given its inputs' types and its attributes, an op's
// output type, or a ShapeError saying why there is none. The compiler runs
// these rules on every node it builds (and the frontend adds the source
// location to a ShapeError); the runtime runs them again on every node of an
// artifact it loads, so that a graph it executes is one the compiler could have
// built.

import type { Shape } from "../dim.js";
import type { DType, Op, OpAttrs } from "../ops.js";

export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** A shape or dtype rule was violated. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export interface TypeRule<O extends Op> {
  /** The number of inputs. */
  readonly arity: number;
  /** The output type, or a ShapeError. */
  readonly infer: (inputs: readonly TensorType[], attrs: OpAttrs[O]) => TensorType;
}

export type TypeRules<K extends Op> = { readonly [O in K]: TypeRule<O> };

/** Input i of a rule's inputs (the arity was checked before the rule runs). */
export function operand(inputs: readonly TensorType[], i: number): TensorType {
  const t = inputs[i];
  if (!t) throw new ShapeError(`missing input ${i}`, "the op's arity was not checked");
  return t;
}
