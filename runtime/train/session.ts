// A training session: a compiled model on a backend, with the counters that
// make a run resumable (epochs and optimizer steps done) and the feature
// normalization the model was trained with.

import { initialize } from "../init/init.js";
import type { NormStats } from "../data/normalize.js";
import type { ModelProgram } from "../program/model.js";
import type { TrainConfig } from "../program/train-config.js";
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
}

/** Fresh weights from the model's initializers (seeded, identical on every backend) and zero optimizer state. */
export async function startSession(model: ModelProgram, backend: Backend, config: TrainConfig): Promise<Session> {
  const values = new Map<string, Float32Array>();
  for (const p of model.params) values.set(p.name, initialize(p.init, p.shape, config.seed, p.name));
  await backend.load(values);
  return { model, backend, config, epoch: 0, step: 0, norm: undefined };
}
