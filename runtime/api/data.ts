// The data `fit` and `evaluate` take: a CSV file (bound to the entry point's
// inputs by column name, as `dlc train` binds it), a Dataset already loaded,
// or arrays in memory, one per input of the entry point, rows first.

import type { ColumnOptions } from "../data/columns.js";
import { DataError, type Dataset, type InputData } from "../data/types.js";
import { entryOf, type EntryProgram } from "../program/model.js";
import { loadFor } from "../train/load.js";
import type { Session } from "../train/session.js";
import { ArgumentError } from "./errors.js";
import { featureInput, fitLabel, trainedEntry, type FitOptions } from "./fit.js";
import { toNDArray, type TensorInput } from "./tensor.js";

/** A CSV file's path, a loaded Dataset, or one array per input of `loss` (`{ x: { shape: [n, 4], data }, label: Int32Array }`). */
export type DataSource = string | Dataset | Readonly<Record<string, TensorInput>>;

export function isDataset(d: DataSource): d is Dataset {
  return typeof d === "object" && d !== null && (d as Dataset).inputs instanceof Map && typeof (d as Dataset).rows === "number";
}

/** The data bound to `entry`'s inputs; `features` names the input that normalization applies to for in-memory arrays. */
export async function datasetOf(entry: EntryProgram, data: DataSource, columns: ColumnOptions, features: string | undefined): Promise<Dataset> {
  if (typeof data === "string") return loadFor(entry, data, columns);
  if (isDataset(data)) return data;
  return datasetFromArrays(entry, data, features);
}

/** `fit`'s data bound to `loss`'s inputs: the label column as fit names it, test data by the training data's feature columns. */
export async function fitData(session: Session, data: DataSource, o: FitOptions): Promise<{ ds: Dataset; test?: Dataset }> {
  const loss = trainedEntry(session);
  const label = fitLabel(session, o);
  const columns = label === undefined ? {} : { label };
  const features = featureInput(session);
  const ds = await datasetOf(loss, data, columns, features);
  if (o.test === undefined) return { ds };
  return { ds, test: await datasetOf(loss, o.test, { ...columns, ...(ds.featureColumns ? { features: ds.featureColumns } : {}) }, features) };
}

/** `evaluate`'s data bound to `loss`'s inputs as the last fit bound its data (or the checkpoint's run). */
export function evaluationData(session: Session, data: DataSource, o: { label?: string }): Promise<Dataset> {
  const loss = entryOf(session.model, "loss");
  if (!loss) throw new ArgumentError("evaluate needs a `loss` entry point");
  const label = o.label ?? session.run?.label ?? session.config.label;
  const features = session.run?.featureColumns;
  return datasetOf(loss, data, { ...(label === undefined ? {} : { label }), ...(features ? { features } : {}) }, featureInput(session));
}

/** In-memory arrays as a Dataset: every input of `entry`, the same number of rows each, labels within their classes. */
export function datasetFromArrays(entry: EntryProgram, arrays: Readonly<Record<string, TensorInput>>, features: string | undefined): Dataset {
  const file = "<arrays>";
  const extra = Object.keys(arrays).filter((k) => !entry.inputs.some((i) => i.name === k));
  if (extra.length > 0) throw new DataError(`${file}: '${extra[0]}' is not an input of '${entry.name}' (its inputs: ${entry.inputs.map((i) => i.name).join(", ")})`);
  let rows: number | undefined;
  const inputs = new Map<string, InputData>();
  for (const spec of entry.inputs) {
    const given = arrays[spec.name];
    if (given === undefined) throw new DataError(`${file}: no array for input '${spec.name}' of '${entry.name}'`);
    const a = toNDArray(spec, given, `${entry.name}: input '${spec.name}'`);
    if (a.shape.length === 0) throw new DataError(`${file}: input '${spec.name}' is a scalar; data needs a first dimension of rows`);
    const n = a.shape[0]!;
    if (rows !== undefined && n !== rows) throw new DataError(`${file}: input '${spec.name}' has ${n} rows, another input has ${rows}`);
    rows = n;
    if (spec.classes !== undefined) {
      const bad = a.data.findIndex((v: number) => v < 0 || v >= spec.classes!);
      if (bad >= 0) throw new DataError(`${file}: input '${spec.name}' holds ${a.data[bad]} at element ${bad}; expected a class in 0..${spec.classes - 1}`);
    }
    const rowShape = a.shape.slice(1);
    inputs.set(spec.name, { dtype: spec.dtype, width: rowShape.reduce((x, y) => x * y, 1), rowShape, data: a.data as Float32Array | Int32Array });
  }
  return { file, rows: rows ?? 0, header: [], inputs, ...(features !== undefined && inputs.has(features) ? { features } : {}) };
}
