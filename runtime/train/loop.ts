// The training loop: epochs of seeded shuffles, batches, optimizer steps,
// and an evaluation after each epoch. It reports through events and prints
// nothing; the CLI draws the progress bar.

import { batches, epochOrder } from "../data/batches.js";
import type { Dataset } from "../data/types.js";
import { entryOf } from "../program/model.js";
import { learningRate } from "../optim/schedule.js";
import { batchInputs, evaluate, type Metrics } from "./metrics.js";
import type { Session } from "./session.js";

export interface Split {
  readonly ds: Dataset;
  readonly rows: Uint32Array;
}

export interface LoopOptions {
  /** Epochs to run now (after the session's completed ones). */
  readonly epochs: number;
  readonly batch: number;
  readonly dropLast: boolean;
  /** The base learning rate (the optimizer's, or the --lr override). */
  readonly lr: number;
  /** Read the loss back every this many steps (1 on the CPU). */
  readonly lossEvery?: number;
  /** Optimizer steps the schedule spans, from step 0 (default: the session's epochs plus these). */
  readonly horizon?: number;
}

export interface StepEvent {
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly stepsInEpoch: number;
  /** The last loss read back, if any this epoch. */
  readonly loss: number | undefined;
}

export interface EpochEvent {
  readonly epoch: number;
  /** Mean training loss of the epoch, each batch weighted by its size. */
  readonly trainLoss: number;
  readonly steps: number;
  readonly examples: number;
  readonly seconds: number;
  readonly test?: Metrics;
}

export interface LoopEvents {
  onStep?(e: StepEvent): void;
  onEpoch?(e: EpochEvent): void | Promise<void>;
}

/** The loss became NaN or infinite: training stops there. */
export class DivergedError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(`the loss became ${loss} at step ${step}`);
  }
}

export function stepsPerEpoch(rows: number, batch: number, dropLast: boolean): number {
  return dropLast ? Math.floor(rows / batch) : Math.ceil(rows / batch);
}

export async function trainEpochs(session: Session, train: Split, test: Split | undefined, options: LoopOptions, events: LoopEvents = {}): Promise<EpochEvent[]> {
  const step = session.model.train?.step;
  if (!step) throw new Error("the model was compiled without a training step");
  const inputNames = entryOf(session.model, "loss")!.inputs.map((i) => i.name);
  const perEpoch = stepsPerEpoch(train.rows.length, options.batch, options.dropLast);
  // Schedules see the whole run, resumed parts included.
  const total = options.horizon ?? (session.epoch + options.epochs) * perEpoch;
  const schedule = session.config.optimizer.schedule;
  const every = Math.max(1, options.lossEvery ?? 1);
  const reports: EpochEvent[] = [];
  for (let e = 0; e < options.epochs; e++) {
    const epoch = session.epoch;
    const started = performance.now();
    let lossSum = 0;
    let lossExamples = 0;
    let examples = 0;
    let last: number | undefined;
    let k = 0;
    for (const batch of batches(train.ds, epochOrder(train.rows, session.config.seed, epoch), options.batch, options.dropLast)) {
      const lr = learningRate(schedule, options.lr, session.step, total);
      const want = k % every === every - 1 || k === perEpoch - 1;
      const loss = await session.backend.step(batchInputs(train.ds, batch, inputNames), lr, session.step + 1, want);
      session.step++;
      k++;
      examples += batch.size;
      if (loss !== undefined) {
        if (!Number.isFinite(loss)) throw new DivergedError(session.step, loss);
        lossSum += loss * batch.size;
        lossExamples += batch.size;
        last = loss;
      }
      events.onStep?.({ epoch, stepInEpoch: k, stepsInEpoch: perEpoch, loss: last });
    }
    session.epoch++;
    const seconds = (performance.now() - started) / 1000;
    const report: EpochEvent = {
      epoch,
      trainLoss: lossSum / Math.max(lossExamples, 1),
      steps: k,
      examples,
      seconds,
      ...(test ? { test: await evaluate(session, test.ds, test.rows, Math.max(options.batch, 256)) } : {}),
    };
    reports.push(report);
    await events.onEpoch?.(report);
  }
  return reports;
}
