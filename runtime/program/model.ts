// A compiled model as the runtime needs it, with no trace of the compiler:
// parameter declarations, one program per entry point, and the training step.
// Plain data, so that an artifact can hold it.

import type { TrainAbi } from "./abi.js";
import type { Dim } from "./dim.js";
import type { DType, Init } from "./ops.js";
import type { GpuProgram } from "./gpu.js";
import type { CpuProgram } from "./program.js";
import type { TrainConfig } from "./train-config.js";

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** False for a parameter the optimizer leaves alone (batch norm's running statistics; the step may still write it). */
  readonly trainable?: false;
}

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** For integer class labels: the number of classes the model compares them against. */
  readonly classes?: number;
}

export interface EntryProgram {
  readonly name: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly cpu: CpuProgram;
  /** The WebGPU program, when the model was compiled for WebGPU. */
  readonly gpu?: GpuProgram;
}

export interface StateSpec {
  readonly name: string;
  readonly param: string;
  readonly shape: readonly number[];
}

export interface TrainProgram {
  readonly config: TrainConfig;
  /** The step: inputs are the loss's, then the hyperparameters and the state; outputs the loss and the updated values. */
  readonly step: EntryProgram;
  readonly state: readonly StateSpec[];
  /** The parameters the step updates. */
  readonly params: readonly string[];
  /** What each input and output of the step is for (runtime/program/abi.ts). */
  readonly abi: TrainAbi;
}

export interface ModelProgram {
  /** The model's main file, as given to the compiler. */
  readonly file: string;
  /** A hash of the model's source files: checkpoints name the model they belong to by it. */
  readonly hash: string;
  readonly params: readonly ParamSpec[];
  readonly entries: readonly EntryProgram[];
  readonly train?: TrainProgram;
}

export function entryOf(model: ModelProgram, name: string): EntryProgram | undefined {
  return model.entries.find((e) => e.name === name);
}

/**
 * The entry point that computes entry `name` and its gradient (compiled on
 * request: `ModelOptions.grad`). Its outputs are the entry's own, then
 * `grad/<param>` per trainable parameter and `grad/<input>` per f32 input.
 */
export const gradEntryName = (name: string) => `${name}.grad`;

/** The output of a gradient entry that holds the gradient with respect to a parameter or input. */
export const gradOutputName = (name: string) => `grad/${name}`;
