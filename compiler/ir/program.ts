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
  /** False for state the optimizer leaves alone (batch norm's running statistics), which the training step writes instead. */
  readonly trainable?: false;
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
  /** Entry points in source order (`loss`, `predict`, ...), traced in inference mode. */
  readonly entries: readonly Graph[];
  /**
   * `loss` traced in training mode (dropout active, batch norm on the batch's
   * statistics), when the model has layers that tell the modes apart: its
   * extra input is the step's random key, its extra outputs (`updateName`) the
   * new values of non-trainable parameters.
   */
  readonly trainingLoss?: Graph;
  readonly train: TrainConfig | undefined;
}

export function entry(p: Program, name: string): Graph | undefined {
  return p.entries.find((g) => g.name === name);
}

/** The output of a training-mode `loss` that holds a non-trainable parameter's value after the step. */
export const updateName = (param: string) => `update/${param}`;

/** The parameter an output of a training-mode `loss` updates, if it is such an output. */
export function updatedParam(output: string): string | undefined {
  return output.startsWith("update/") ? output.slice("update/".length) : undefined;
}

/** The loss graph the training step differentiates. */
export function trainingLoss(p: Program): Graph | undefined {
  return p.trainingLoss ?? entry(p, "loss");
}
