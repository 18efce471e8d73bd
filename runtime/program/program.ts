// The program format: a graph as the runtime sees it. Nodes are listed in
// topological order and refer to their inputs by index; attributes are the
// primitives' own (runtime/program/ops.ts); shapes may hold symbolic sizes,
// which the runtime binds from the shapes of the inputs it is given. Plain
// data: it is what artifacts store, and nothing in it is ever evaluated as code.

import type { Shape } from "./dim.js";
import type { DType, Op, OpAttrs } from "./ops.js";

export type ProgramNode = { [O in Op]: { readonly op: O; readonly inputs: readonly number[]; readonly attrs: OpAttrs[O]; readonly shape: Shape; readonly dtype: DType } }[Op];

export interface Binding {
  readonly name: string;
  readonly node: number;
}

export interface GraphProgram {
  readonly name: string;
  readonly nodes: readonly ProgramNode[];
  readonly inputs: readonly Binding[];
  readonly outputs: readonly Binding[];
}
