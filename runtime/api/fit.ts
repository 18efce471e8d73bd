// `fit`: the loop `dlc train` runs, from code. The data is split and the
// features normalized as the CLI does it (a seeded split, statistics fit on
// the training rows only), then runtime/train/loop.ts trains: seeded
// shuffles, the schedule over the whole run, the test metrics after every
// epoch, a NaN stopping the run at its step. Callbacks see every step and
// epoch; nothing is printed. This module takes data sets already bound to
// the model (so that a browser runs it too); data.ts binds CSV files and
// arrays to them for BoundModel.fit.

import { splitRows } from "../data/batches.js";
import type { Dataset } from "../data/types.js";
import { entryOf, type EntryProgram } from "../program/model.js";
import type { Normalization } from "../program/train-config.js";
import { allRows, fitNorm, normalize } from "../train/data.js";
import { stepsPerEpoch, trainEpochs, type DivergingEvent, type EpochEvent, type Split, type StepEvent } from "../train/loop.js";
import { evaluate, type Metrics } from "../train/metrics.js";
import type { Session } from "../train/session.js";
import type { DataSource } from "./data.js";
import { ArgumentError } from "./errors.js";

/** How `fit` trains: everything but the data. */
export interface FitSettings {
  /** Epochs to train now (default: the model's `train.epochs`). */
  readonly epochs?: number;
  /** Default: the model's `train.batch`. */
  readonly batch?: number;
  /** The base learning rate (default: the optimizer's). */
  readonly lr?: number;
  /** Drop the last, smaller batch of each epoch. */
  readonly dropLast?: boolean;
  /** A fraction of the data held out (drawn with the seed), as `--split`. */
  readonly split?: number;
  /** The label column of a CSV file, when no input of `loss` is named after it. */
  readonly label?: string;
  /** Feature normalization fit on the training rows (default: the model's `train.normalize`, else none); kept for `evaluate` and `predict`. */
  readonly normalize?: Normalization;
  /** Read the loss back every this many steps for onStep (default 1 on the CPU, 25 on WebGPU); the epoch's mean covers every step. */
  readonly lossEvery?: number;
  /** A promise it returns is awaited before the next step (a Web Worker yields there to hear a Stop). */
  readonly onStep?: (e: StepEvent) => void;
  readonly onEpoch?: (e: EpochEvent) => void | Promise<void>;
  readonly onDiverging?: (e: DivergingEvent) => void;
}

export interface FitOptions extends FitSettings {
  /** Held-out data, evaluated after every epoch. */
  readonly test?: DataSource;
}

export interface FitResult {
  /** One report per epoch: training loss, steps, time, and the test metrics when there is test data. */
  readonly epochs: readonly EpochEvent[];
  /** The last epoch's test metrics. */
  readonly test?: Metrics;
  /** The rows of the data that `split` held out, in order. */
  readonly testRows?: Uint32Array;
}

/** `loss`, which fit trains; throws for a model without a training step. */
export function trainedEntry(session: Session): EntryProgram {
  const loss = entryOf(session.model, "loss");
  if (!loss || !session.model.train) throw new ArgumentError("fit needs a model compiled with its training step (a `loss` entry point)");
  return loss;
}

/** The label column of a CSV file: the option, else the model's `train.label`. */
export function fitLabel(session: Session, o: FitSettings): string | undefined {
  return o.label ?? session.config.label;
}

/** Trains on `ds` (bound to `loss`'s inputs), evaluating `test` or the rows `split` holds out after every epoch. */
export async function fitDatasets(session: Session, ds: Dataset, testData: Dataset | undefined, o: FitSettings = {}): Promise<FitResult> {
  trainedEntry(session);
  if (testData !== undefined && o.split !== undefined) throw new ArgumentError("fit: give either test or split, not both");
  const config = session.config;
  const batch = o.batch ?? config.batch;
  const epochs = o.epochs ?? config.epochs;
  const lr = o.lr ?? session.run?.lr ?? config.optimizer.lr;
  const kind = o.normalize ?? config.normalize ?? "none";
  let rows = allRows(ds);
  let test: { ds: Dataset; rows: Uint32Array } | undefined;
  if (o.split !== undefined) {
    if (!(o.split > 0 && o.split < 1)) throw new ArgumentError(`fit: split ${o.split} is not a fraction between 0 and 1`);
    const s = splitRows(ds.rows, o.split, config.seed);
    rows = s.train;
    test = { ds, rows: s.test };
  } else if (testData !== undefined) {
    test = { ds: testData, rows: allRows(testData) };
  }
  // A second fit continues the first: its normalization is kept, not fit again.
  if (session.norm === undefined && kind !== "none") session.norm = fitNorm(kind, ds, rows);
  const trainSplit: Split = { ds: normalize(ds, session.norm), rows };
  const testSplit = test && { ds: test.ds === ds ? trainSplit.ds : normalize(test.ds, session.norm), rows: test.rows };
  const perEpoch = stepsPerEpoch(rows.length, batch, o.dropLast === true);
  const horizon = session.step + epochs * perEpoch;
  session.run = {
    batch,
    dropLast: o.dropLast === true,
    lr,
    normalize: session.norm?.kind ?? "none",
    split: o.split === undefined ? undefined : { fraction: o.split, rows: ds.rows },
    label: fitLabel(session, o),
    featureColumns: ds.featureColumns,
    epochs: session.epoch + epochs,
    horizon,
  };
  const reports = await trainEpochs(
    session,
    trainSplit,
    testSplit,
    { epochs, batch, dropLast: o.dropLast === true, lr, horizon, lossEvery: o.lossEvery ?? (session.backend.kind === "webgpu" ? 25 : 1) },
    { ...(o.onStep ? { onStep: o.onStep } : {}), ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}), ...(o.onDiverging ? { onDiverging: o.onDiverging } : {}) },
  );
  const last = reports.at(-1)?.test;
  return { epochs: reports, ...(last ? { test: last } : {}), ...(o.split !== undefined && test ? { testRows: test.rows } : {}) };
}

/** Loss, accuracy or MSE (and a confusion matrix for classes) of `ds` (bound to `loss`'s inputs) with the current parameters, normalized as in training. */
export function evaluateDataset(session: Session, ds: Dataset, batch?: number): Promise<Metrics> {
  const normalized = normalize(ds, session.norm);
  return evaluate(session, normalized, allRows(normalized), batch ?? Math.max(session.config.batch, 256));
}

/** The input normalization applies to in arrays given in memory: `predict`'s only input, when it has one. */
export function featureInput(session: Session): string | undefined {
  const predict = entryOf(session.model, "predict");
  return predict?.inputs.length === 1 ? predict.inputs[0]!.name : undefined;
}
