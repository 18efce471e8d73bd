// Data shaped for a model's entry point, with the normalization it was (or is
// being) trained with. CSV files are read by load.ts (Node); this module
// binds CSV text, which a browser has.

import { applyNormalization, fitNormalization, normalizedInput, type NormStats } from "../data/normalize.js";
import type { ColumnOptions } from "../data/columns.js";
import { datasetFromText } from "../data/csv.js";
import type { Dataset, InputSpec } from "../data/types.js";
import type { EntryProgram } from "../program/model.js";
import type { Normalization } from "../program/train-config.js";

export function inputSpecs(entry: EntryProgram): InputSpec[] {
  return entry.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape, ...(i.classes !== undefined ? { classes: i.classes } : {}) }));
}

/** CSV text (`file` names it in errors) bound to the inputs of an entry point, as loadFor binds a file. */
export function textFor(entry: EntryProgram, text: string, file: string, options: ColumnOptions = {}): Dataset {
  return datasetFromText(text, file, inputSpecs(entry), options);
}

/** Fits the normalization on the training rows, or undefined when there is nothing to normalize. */
export function fitNorm(kind: Normalization, ds: Dataset, rows: Uint32Array): NormStats | undefined {
  const input = normalizedInput(ds);
  return kind === "none" || input === undefined ? undefined : fitNormalization(kind, ds, input, rows);
}

export function normalize(ds: Dataset, stats: NormStats | undefined): Dataset {
  return stats ? applyNormalization(stats, ds) : ds;
}

export const allRows = (ds: Dataset): Uint32Array => Uint32Array.from({ length: ds.rows }, (_, i) => i);
