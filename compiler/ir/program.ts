// A compiled model: its parameters and the graphs of its entry points.

import type { Init } from "../../runtime/program/ops.js";
import type { TrainConfig } from "../../runtime/program/train-config.js";
import type { Graph, SourceLoc } from "./node.js";

export interface ParamDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** Where it was first declared. */
  readonly loc: SourceLoc;
}

export interface SourceFile {
  readonly path: string;
  readonly sha256: string;
}

export interface Program {
  /** The model's main file. */
  readonly file: string;
  /** Every file the model is made of, for hashing and diagnostics. */
  readonly sources: readonly SourceFile[];
  /** Parameters in order of first declaration. */
  readonly params: readonly ParamDecl[];
  /** Entry points in source order (`loss`, `predict`, ...). */
  readonly entries: readonly Graph[];
  readonly train: TrainConfig | undefined;
}

export function entry(p: Program, name: string): Graph | undefined {
  return p.entries.find((g) => g.name === name);
}
