// The predictions table: for each test row (at most MAX_ROWS), its number in
// the file, its label and what the model predicts, wrong classes marked.
// Computed in the worker, which has the data; the page draws it.

import { labelInput, type Dataset, type ModelProgram } from "../runtime/browser.js";
import type { PredictionTable } from "./protocol.js";

const MAX_ROWS = 500;

export interface Predictions {
  /** `predict`'s output for every row of the data set, `width` values per row. */
  readonly values: Float32Array | Int32Array;
  readonly width: number;
}

/** The table of `rows` of `ds`, with a summary line. */
export function predictionTable(model: ModelProgram, ds: Dataset, rows: Uint32Array, p: Predictions): PredictionTable {
  const target = labelInput(model);
  const labels = target ? ds.inputs.get(target.name)?.data : undefined;
  const classes = target?.task === "classification";
  const show = (v: number) => (classes ? String(v) : v.toPrecision(4));
  const shownRows: PredictionTable["rows"][number][] = [];
  let wrong = 0;
  rows.forEach((r, k) => {
    const predicted = p.values.subarray(r * p.width, (r + 1) * p.width);
    const label = labels?.[r];
    const miss = classes && label !== undefined && p.width === 1 && predicted[0] !== label;
    if (miss) wrong++;
    if (k >= MAX_ROWS) return;
    // Rows count from 1 after the header, as a spreadsheet shows them.
    shownRows.push({ row: r, cells: [String(r + 1), label === undefined ? "" : show(label), Array.from(predicted, show).join(" ")], wrong: miss });
  });
  const shown = rows.length > MAX_ROWS ? `the first ${MAX_ROWS} of ${rows.length} test rows` : `${rows.length} test rows`;
  return { head: ["row", target ? target.name : "label", "predicted"], rows: shownRows, summary: classes ? `${shown}; ${wrong} of ${rows.length} misclassified` : shown };
}
