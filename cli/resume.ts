// What a resumed run takes from its checkpoint. A run is continued, not
// restarted: the seed (which also draws the split and the shuffles), the
// split, the normalization, the label column, the batch size and drop-last
// come from the checkpoint, and a flag that says otherwise is an error naming
// both values, since the run it would give is not the one being resumed (a
// different seed or split trains on the rows held out for testing). A flag
// that agrees is accepted. The base learning rate is taken from the
// checkpoint unless --lr sets a new one: a deliberate change, not a data
// binding. A checkpoint written before a setting was recorded leaves it to
// the flags and the model, as before.

import type { Normalization, TrainConfig } from "../runtime/program/train-config.js";
import type { StoredSettings } from "../runtime/train/checkpoint.js";
import { UsageError } from "./exit.js";
import type { TrainCommandOptions } from "./train.js";

export interface DataSettings {
  readonly seed: number;
  readonly batch: number;
  readonly dropLast: boolean;
  readonly lr: number;
  readonly normalize: Normalization;
  readonly split: number | undefined;
  readonly label: string | undefined;
  /** The feature columns to bind by name (a resumed run's). */
  readonly featureColumns: readonly string[] | undefined;
}

const conflict = (flag: string, stored: string) => new UsageError(`${flag} conflicts with the checkpoint's ${stored}; a resumed run keeps the settings it was started with (leave the flag out, or start a new run)`);

/** The value of a setting: the checkpoint's, unless it predates the setting; a flag given explicitly must agree. */
function keep<T extends string | number>(flag: string, given: T | undefined, stored: T | undefined, what: string, fallback: T): T {
  if (stored === undefined) return given ?? fallback;
  if (given !== undefined && given !== stored) throw conflict(`${flag} ${given}`, `${what} ${stored}`);
  return stored;
}

/** The settings of a fresh run (`stored` empty) or of a resumed one. */
export function dataSettings(o: TrainCommandOptions, base: TrainConfig, stored: StoredSettings = {}): DataSettings {
  const seed = keep("--seed", o.seed, stored.seed, "seed", base.seed);
  const batch = keep("--batch", o.batch, stored.batch, "batch size", base.batch);
  const normalize = keep("--normalize", o.normalize, stored.normalize, "normalization", base.normalize ?? "none");

  let dropLast = o.dropLast === true;
  if (stored.dropLast !== undefined) {
    if (dropLast && !stored.dropLast) throw conflict("--drop-last", "setting (trained without --drop-last)");
    dropLast = stored.dropLast;
  }

  let label = o.label ?? base.label;
  if (stored.label === null && o.label !== undefined) throw conflict(`--label ${o.label}`, "setting (trained without --label)");
  if (typeof stored.label === "string") label = keep("--label", o.label, stored.label, "label column", stored.label);

  let split = o.split;
  if (stored.split === null && o.split !== undefined) throw conflict(`--split ${o.split}`, "setting (trained on all of --data, without --split)");
  if (stored.split) {
    if (o.test !== undefined) throw conflict("--test", `split ${stored.split.fraction} (its held-out rows of --data would be trained on)`);
    split = keep("--split", o.split, stored.split.fraction, "split", stored.split.fraction);
  }

  return { seed, batch, dropLast, lr: o.lr ?? stored.lr ?? base.optimizer.lr, normalize, split, label, featureColumns: stored.featureColumns ?? undefined };
}

export interface Plan {
  /** Epochs to run now. */
  readonly epochs: number;
  /** Epochs planned for the whole run, and the optimizer steps the schedule spans. */
  readonly planned: number;
  readonly horizon: number;
}

/**
 * How long to train, and the schedule's horizon. A fresh run plans --epochs
 * (or the model's epochs). A resumed run without --epochs finishes the plan
 * of the run it continues, with the same horizon: the result is the run that
 * was interrupted, bit for bit. With --epochs N it trains N more epochs; while
 * those stay within the plan the horizon is kept, and past it the plan is
 * extended to them (the schedule is re-planned from the current step on).
 */
export function plan(o: TrainCommandOptions, base: TrainConfig, perEpoch: number, resumed?: { epoch: number; step: number; settings: StoredSettings; file: string }): Plan {
  if (resumed === undefined) {
    const epochs = o.epochs ?? base.epochs;
    return { epochs, planned: epochs, horizon: epochs * perEpoch };
  }
  const { epoch: done, step, settings } = resumed;
  const stored = settings.epochs !== undefined && settings.horizon !== undefined ? { planned: settings.epochs, horizon: settings.horizon } : undefined;
  if (o.epochs === undefined && stored) {
    const epochs = stored.planned - done;
    if (epochs <= 0) throw new UsageError(`${resumed.file}: the run has finished its plan of ${stored.planned} epochs; pass --epochs N to train N more`);
    return { epochs, ...stored };
  }
  const epochs = o.epochs ?? base.epochs;
  if (stored && done + epochs <= stored.planned) return { epochs, ...stored };
  return { epochs, planned: done + epochs, horizon: step + epochs * perEpoch };
}
