// The shapes of the data pipeline: what a model asks for (InputSpec), what a
// CSV file gives it (Dataset of InputData), and the one error every step of the
// pipeline throws (DataError), so that the CLI can print any data problem as a
// single `file:line:column: message` line.

import type { Dim } from "../program/dim.js";

/** One tensor parameter of a model entry point (e.g. of `loss`). */
export interface InputSpec {
  /** Parameter name, e.g. "pixels", "label", "species", "target". */
  readonly name: string;
  readonly dtype: "f32" | "i32";
  /** Declared shape: the first dim is the batch (usually symbolic), the rest are static. */
  readonly shape: readonly Dim[];
  /** For i32 labels: valid values are 0..classes-1 (checked while loading). */
  readonly classes?: number;
}

/** The values of one input for every row of a file: row-major, rows x width. */
export interface InputData {
  readonly dtype: "f32" | "i32";
  /** Values per row: the product of rowShape. */
  readonly width: number;
  /** The declared shape without its batch dim. */
  readonly rowShape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export interface Dataset {
  readonly file: string;
  readonly rows: number;
  /** The header row as written (names trimmed), ignored columns included. */
  readonly header: readonly string[];
  readonly inputs: ReadonlyMap<string, InputData>;
  /**
   * The input that took all the remaining columns (rule 4 of the column
   * mapping), if any: the features, and the only input that normalization may
   * touch. Inputs bound to a single column by name or by `label` are targets.
   */
  readonly features?: string;
  /** The names of the columns `features` took, in its order (checkpoints record them, to bind later files by name). */
  readonly featureColumns?: readonly string[];
}

/**
 * Bad data or a data set that does not fit the model. The message is one line,
 * `path:line:column: what is wrong; what was expected`, or `path:line: ...`
 * for a whole row or the header, or `path: ...` when no position applies.
 */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}
