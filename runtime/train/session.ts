// A training session: a compiled model on a backend, with the counters that
// make a run resumable (epochs and optimizer steps done) and the feature
// normalization the model was trained with.

import { initialize } from "../init/init.js";
import type { NormStats } from "../data/normalize.js";
import type { ModelProgram } from "../program/model.js";
import type { Normalization, TrainConfig } from "../program/train-config.js";
import type { Backend } from "./backend.js";

export interface Session {
  readonly model: ModelProgram;
  readonly backend: Backend;
  /** The effective configuration: the model's `train`, with command-line overrides. */
  readonly config: TrainConfig;
  /** Epochs completed. */
  epoch: number;
  /** Optimizer steps completed. */
  step: number;
  norm: NormStats | undefined;
  /** How the run was set up, saved in its checkpoints so that `--resume` sets it up the same way. */
  run?: RunSettings;
}

/**
 * What a resumed run must repeat to continue the same run: the data settings
 * (the seed also draws the split and the shuffles), the plan the learning-rate
 * schedule spans, and the feature columns by name.
 */
export interface RunSettings {
  readonly batch: number;
  readonly dropLast: boolean;
  /** The base learning rate (the optimizer's, or --lr). */
  readonly lr: number;
  readonly normalize: Normalization;
  /** The fraction of the data held out as test rows (--split), and the row count it was drawn from. */
  readonly split: { readonly fraction: number; readonly rows: number } | undefined;
  readonly label: string | undefined;
  /** The columns the features input took, in its order. */
  readonly featureColumns: readonly string[] | undefined;
  /** Epochs planned for the run, resumed parts included. */
  readonly epochs: number;
  /** Optimizer steps the schedule spans (its horizon): the plan, in steps. */
  readonly horizon: number;
}

/** Fresh weights from the model's initializers (seeded, identical on every backend) and zero optimizer state. */
export async function startSession(model: ModelProgram, backend: Backend, config: TrainConfig): Promise<Session> {
  const values = new Map<string, Float32Array>();
  for (const p of model.params) values.set(p.name, initialize(p.init, p.shape, config.seed, p.name));
  await backend.load(values);
  return { model, backend, config, epoch: 0, step: 0, norm: undefined };
}
