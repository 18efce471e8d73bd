// A training run's history: one record per epoch, what `dlc train --json`
// prints as `history` and `--plot` draws. Metrics of the training rows come
// from evaluating them after the epoch (inference mode, as the test rows are),
// which only `--plot` asks for; the train loss is always the epoch's mean step
// loss.

import type { EpochEvent } from "../runtime/train/loop.js";
import type { Metrics } from "../runtime/train/metrics.js";

export interface EpochRecord {
  /** Counted from 1, across resumed runs. */
  readonly epoch: number;
  readonly train_loss: number;
  readonly train_accuracy?: number;
  readonly test_loss?: number;
  readonly test_accuracy?: number;
  readonly test_mse?: number;
  readonly test_mae?: number;
  readonly seconds: number;
}

export function epochRecord(e: EpochEvent, train?: Metrics): EpochRecord {
  const t = e.test;
  return {
    epoch: e.epoch + 1,
    train_loss: e.trainLoss,
    ...(train?.accuracy !== undefined ? { train_accuracy: train.accuracy } : {}),
    ...(t ? { test_loss: t.loss } : {}),
    ...(t?.accuracy !== undefined ? { test_accuracy: t.accuracy } : {}),
    ...(t?.mse !== undefined ? { test_mse: t.mse, test_mae: t.mae } : {}),
    seconds: e.seconds,
  };
}
