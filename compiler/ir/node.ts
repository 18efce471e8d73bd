// IR nodes: immutable, each an application of one primitive to earlier nodes.
//
// A node carries its op, its inputs, the op's attributes, and the type the
// op's shape rule gave it (shape with static and symbolic dims, dtype), plus the
// source location it came from so that every later stage can point at the
// model's code. Passes never mutate nodes: they build new ones.

import type { Shape } from "../../runtime/program/dim.js";
import type { DType, Op, OpAttrs } from "../../runtime/program/ops.js";

export type { Shape, Dim } from "../../runtime/program/dim.js";
export type { DType, Op, OpAttrs } from "../../runtime/program/ops.js";

/** A 1-based position in a source file. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type { TensorType } from "../../runtime/program/shapes/rule.js";
import type { TensorType } from "../../runtime/program/shapes/rule.js";

export interface NodeOf<O extends Op> extends TensorType {
  readonly id: number;
  readonly op: O;
  readonly inputs: readonly Node[];
  readonly attrs: OpAttrs[O];
  readonly loc: SourceLoc | undefined;
}

/** Any node, discriminated by `op`. */
export type Node = { [O in Op]: NodeOf<O> }[Op];

/** A named result of a graph. */
export interface Output {
  readonly name: string;
  readonly node: Node;
}

/**
 * A graph: one entry point of a model (`loss`, `predict`, the training step).
 * Inputs are in parameter order; parameters are the `param` nodes it reaches.
 */
export interface Graph {
  readonly name: string;
  readonly inputs: readonly NodeOf<"input">[];
  readonly outputs: readonly Output[];
}

let nextId = 0;

/** Creates a node; callers go through compiler/ops/make.ts, which infers the type. */
export function newNode<O extends Op>(
  op: O,
  inputs: readonly Node[],
  attrs: OpAttrs[O],
  type: TensorType,
  loc: SourceLoc | undefined,
): NodeOf<O> {
  return { id: nextId++, op, inputs, attrs, shape: type.shape, dtype: type.dtype, loc };
}
