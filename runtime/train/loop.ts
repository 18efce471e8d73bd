// The training loop: epochs of seeded shuffles, batches, optimizer steps,
// and an evaluation after each epoch. It reports through events and prints
// nothing; the CLI draws the progress bar.
//
// The loss of every step stays on the backend until the epoch ends, when the
// loop takes them all (one readback on WebGPU): the epoch's train_loss is the
// mean over all its steps, a NaN or infinity stops training naming the step
// where it first appeared, and a loss that grows by orders of magnitude is
// reported once (`onDiverging`). A loss read back mid-epoch (every
// `lossEvery` steps) feeds the progress bar and stops a run that is already
// non-finite without waiting for the epoch's end.

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
  /** Read a step's loss back every this many steps, for progress (1 on the CPU); the epoch's mean always covers every step. */
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

/** A step's loss is far above the run's first: see `diverges`. */
export interface DivergingEvent {
  /** The step (counted like Session.step, from 1) whose loss crossed the threshold. */
  readonly step: number;
  readonly loss: number;
  /** The loss of the first step of this run: the reference. */
  readonly firstLoss: number;
}

export interface LoopEvents {
  /** A promise it returns is awaited before the next step: a Web Worker yields there to hear a Stop (and ends the run by throwing). */
  onStep?(e: StepEvent): void;
  onEpoch?(e: EpochEvent): void | Promise<void>;
  /** At most once per run: the first step whose loss `diverges`. */
  onDiverging?(e: DivergingEvent): void;
}

/** How many times the first step's loss a step's loss may reach before the run is called diverging. */
export const DIVERGING_FACTOR = 1e4;

/**
 * The rule for the divergence warning: the loss's magnitude exceeds
 * DIVERGING_FACTOR times the first step's, or DIVERGING_FACTOR when the first
 * is below 1 (so that a run resumed near a loss of 0 is not called diverging
 * over noise).
 */
export function diverges(loss: number, firstLoss: number): boolean {
  return Math.abs(loss) > DIVERGING_FACTOR * Math.max(Math.abs(firstLoss), 1);
}

/** The loss became NaN or infinite: training stops there. `step` is the first step whose loss was not finite, on every backend. */
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
  // Losses of steps run before this loop (a caller's own steps) are not this run's.
  await session.backend.takeLosses();
  let firstLoss: number | undefined;
  let warned = false;
  for (let e = 0; e < options.epochs; e++) {
    const epoch = session.epoch;
    const stepsBefore = session.step;
    const started = performance.now();
    const sizes: number[] = [];
    let examples = 0;
    let last: number | undefined;
    let k = 0;
    /** Takes the epoch's per-step losses so far: stops at the first non-finite one, warns at the first diverging one, and returns their sum weighted by batch size. */
    const settle = async (): Promise<number> => {
      const losses = await session.backend.takeLosses();
      if (losses.length !== sizes.length) throw new Error(`internal: the backend kept ${losses.length} losses for ${sizes.length} steps`);
      let sum = 0;
      for (let i = 0; i < losses.length; i++) {
        const loss = losses[i]!;
        const at = stepsBefore + i + 1;
        if (!Number.isFinite(loss)) throw new DivergedError(at, loss);
        firstLoss ??= loss;
        if (!warned && diverges(loss, firstLoss)) {
          warned = true;
          events.onDiverging?.({ step: at, loss, firstLoss });
        }
        sum += loss * sizes[i]!;
      }
      return sum;
    };
    for (const batch of batches(train.ds, epochOrder(train.rows, session.config.seed, epoch), options.batch, options.dropLast)) {
      const lr = learningRate(schedule, options.lr, session.step, total);
      const loss = await session.backend.step(batchInputs(train.ds, batch, inputNames), lr, session.step + 1, k % every === every - 1, session.config.seed);
      session.step++;
      k++;
      sizes.push(batch.size);
      examples += batch.size;
      if (loss !== undefined) {
        // Already non-finite: settle() names the step where it began.
        if (!Number.isFinite(loss)) {
          await settle();
          throw new DivergedError(session.step, loss);
        }
        last = loss;
      }
      const yielded: unknown = events.onStep?.({ epoch, stepInEpoch: k, stepsInEpoch: perEpoch, loss: last });
      if (yielded instanceof Promise) await yielded;
    }
    const lossSum = await settle();
    session.epoch++;
    const seconds = (performance.now() - started) / 1000;
    const report: EpochEvent = {
      epoch,
      trainLoss: lossSum / Math.max(examples, 1),
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
