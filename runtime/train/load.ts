// A CSV file bound to a model's entry point (Node: the file is streamed).

import type { ColumnOptions } from "../data/columns.js";
import { loadDataset } from "../data/load.js";
import type { Dataset } from "../data/types.js";
import type { EntryProgram } from "../program/model.js";
import { inputSpecs } from "./data.js";

/**
 * Loads a CSV file bound to the inputs of an entry point (`loss` for training,
 * `predict` for predictions); `features` binds the feature columns by name
 * (those a checkpoint was trained on).
 */
export function loadFor(entry: EntryProgram, file: string, options: ColumnOptions = {}): Promise<Dataset> {
  return loadDataset(file, inputSpecs(entry), options);
}
