// Feature normalization (`--normalize standard|minmax|none`).
//
// What is normalized: only the features, i.e. the f32 input that took all the
// remaining columns (Dataset.features, rule 4 of the column mapping). An input
// bound to a single column by its name or by `label` is a target and is never
// normalized: scaling a regression target would change what the loss means.
//
// Statistics are per column of the features, accumulated in float64 over the
// training rows only (pass the training split), so the test rows and, later,
// predict see exactly the transform the model was trained with:
//   standard: shift = mean, scale = 1 / std (population std, as scikit-learn)
//   minmax:   shift = min,  scale = 1 / (max - min), mapping the range to [0, 1]
//   none:     shift = 0,    scale = 1
// and x' = (x - shift) * scale. A constant column (std 0, or max == min) gets
// scale 1: it becomes all zeros instead of NaN, and carries no information in
// either case.

import type { Normalization } from "../program/train-config.js";
import { checkRowIndices } from "./batches.js";
import { DataError, type Dataset, type InputData } from "./types.js";

export type { Normalization } from "../program/train-config.js";

export interface NormStats {
  readonly kind: Normalization;
  readonly input: string;
  /** Per column: x' = (x - shift) * scale. */
  readonly shift: Float32Array;
  readonly scale: Float32Array;
}

/** The input that `--normalize` applies to: the features when they are f32, else none. */
export function normalizedInput(ds: Dataset): string | undefined {
  const name = ds.features;
  return name !== undefined && ds.inputs.get(name)?.dtype === "f32" ? name : undefined;
}

/** Per-column statistics of `input` over `rows` (default: all rows of `ds`). */
export function fitNormalization(kind: Normalization, ds: Dataset, input: string, rows?: Uint32Array): NormStats {
  const x = featureData(ds, input);
  const width = x.width;
  const shift = new Float64Array(width);
  const scale = new Float64Array(width).fill(1);
  const n = rows === undefined ? ds.rows : rows.length;
  if (n === 0) throw new DataError(`${ds.file}: no rows to fit the ${kind} normalization of '${input}'; expected at least one`);
  if (rows !== undefined) checkRowIndices(ds, rows);
  const rowAt = rows === undefined ? (i: number) => i : (i: number) => rows[i]!;

  if (kind === "standard") {
    // Two passes (mean, then squared deviations): exact enough in float64 even for large offsets.
    for (let i = 0; i < n; i++) {
      const base = rowAt(i) * width;
      for (let c = 0; c < width; c++) shift[c]! += x.data[base + c]!;
    }
    for (let c = 0; c < width; c++) shift[c]! /= n;
    const sq = new Float64Array(width);
    for (let i = 0; i < n; i++) {
      const base = rowAt(i) * width;
      for (let c = 0; c < width; c++) {
        const d = x.data[base + c]! - shift[c]!;
        sq[c]! += d * d;
      }
    }
    for (let c = 0; c < width; c++) {
      const std = Math.sqrt(sq[c]! / n);
      if (std > 0) scale[c] = 1 / std;
    }
  } else if (kind === "minmax") {
    const max = new Float64Array(width).fill(-Infinity);
    shift.fill(Infinity);
    for (let i = 0; i < n; i++) {
      const base = rowAt(i) * width;
      for (let c = 0; c < width; c++) {
        const v = x.data[base + c]!;
        if (v < shift[c]!) shift[c] = v;
        if (v > max[c]!) max[c] = v;
      }
    }
    for (let c = 0; c < width; c++) {
      const range = max[c]! - shift[c]!;
      if (range > 0) scale[c] = 1 / range;
    }
  }
  return { kind, input, shift: Float32Array.from(shift), scale: Float32Array.from(scale) };
}

/** A new Dataset whose `stats.input` is transformed; the other inputs are shared, `ds` is unchanged. */
export function applyNormalization(stats: NormStats, ds: Dataset): Dataset {
  const x = featureData(ds, stats.input);
  if (stats.shift.length !== x.width || stats.scale.length !== x.width) {
    throw new DataError(
      `${ds.file}: the ${stats.kind} statistics of '${stats.input}' have ${stats.shift.length} columns; expected ${x.width}, the width of '${stats.input}'`,
    );
  }
  if (stats.kind === "none") return ds;
  const { shift, scale, input } = stats;
  const out = new Float32Array(x.data.length);
  const width = x.width;
  for (let base = 0; base < out.length; base += width) {
    for (let c = 0; c < width; c++) out[base + c] = (x.data[base + c]! - shift[c]!) * scale[c]!;
  }
  const inputs = new Map(ds.inputs);
  inputs.set(input, { ...x, data: out });
  return { ...ds, inputs };
}

function featureData(ds: Dataset, input: string): InputData & { data: Float32Array } {
  const x = ds.inputs.get(input);
  if (x === undefined) {
    throw new DataError(`${ds.file}: no input '${input}' to normalize; the inputs are ${[...ds.inputs.keys()].join(", ")}`);
  }
  if (!(x.data instanceof Float32Array)) {
    throw new DataError(`${ds.file}: input '${input}' is ${x.dtype}; expected f32 to normalize`);
  }
  return x as InputData & { data: Float32Array };
}
