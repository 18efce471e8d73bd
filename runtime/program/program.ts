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
  /** Where each node came from in the model's source, for messages about it (artifacts of older compilers have none). */
  readonly locations?: Locations;
}

/**
 * Source positions of a graph's nodes: the files by base name, and per node
 * [file index, line, column] (1-based), or null for a node the compiler made
 * up (a constant of the optimizer, say).
 */
export interface Locations {
  readonly files: readonly string[];
  readonly nodes: readonly (readonly [file: number, line: number, col: number] | null)[];
}

/** "file:line:col" of node i, where the program knows it. */
export function locationOf(g: GraphProgram, i: number): string | undefined {
  const at = g.locations?.nodes[i];
  return at ? `${g.locations!.files[at[0]]}:${at[1]}:${at[2]}` : undefined;
}

/**
 * One step of a CPU program:
 * - "kernel": one primitive computed by its kernel (matmul, conv2d, a reduction...);
 * - "alias": a reshape, which shares its input's buffer;
 * - "fused": an elementwise group computed in one pass over its output, without
 *   a buffer per member. `members` are in topological order and end with `node`,
 *   the only member that is materialized. Members read each other and, from
 *   outside the group, materialized nodes (contiguously, or through a member
 *   broadcast, transpose, slice or pad that maps indices).
 */
export type Step =
  | { readonly kind: "kernel"; readonly node: number }
  | { readonly kind: "alias"; readonly node: number }
  | { readonly kind: "fused"; readonly node: number; readonly members: readonly number[] };

export interface CpuProgram {
  readonly graph: GraphProgram;
  readonly steps: readonly Step[];
}
