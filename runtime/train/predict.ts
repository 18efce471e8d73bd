// Predictions of a model's `predict` entry point over a data set, in row order.

import { batches } from "../data/batches.js";
import type { Dataset } from "../data/types.js";
import { entryOf } from "../program/model.js";
import { allRows, normalize } from "./data.js";
import { batchInputs } from "./metrics.js";
import type { Session } from "./session.js";

/** One array of `rows * width` values (Int32Array for class predictions), and the width per row. */
export async function predict(session: Session, data: Dataset, batchSize = 256): Promise<{ values: Float32Array | Int32Array; width: number; output: string }> {
  const entry = entryOf(session.model, "predict");
  if (!entry) throw new Error("the model has no `predict` entry point");
  const ds = normalize(data, session.norm);
  const output = entry.outputs[0]!;
  const names = entry.inputs.map((i) => i.name);
  let values: Float32Array | Int32Array | undefined;
  let width = 0;
  let row = 0;
  for (const batch of batches(ds, allRows(ds), batchSize, false)) {
    const out = (await session.backend.run("predict", batchInputs(ds, batch, names))).get(output.name)!;
    width = out.data.length / batch.size;
    values ??= output.dtype === "i32" ? new Int32Array(ds.rows * width) : new Float32Array(ds.rows * width);
    values.set(out.data, row * width);
    row += batch.size;
  }
  return { values: values ?? new Float32Array(0), width, output: output.name };
}
