// Evaluation: the mean loss over a data set, and the metric of its task:
// accuracy when the label is an integer class, MSE and MAE when it is a float
// target. Predictions come from the model's `predict` entry point.

import type { NDArray } from "../cpu/ndarray.js";
import { batches, type Batch } from "../data/batches.js";
import type { Dataset } from "../data/types.js";
import { entryOf, type ModelProgram } from "../program/model.js";
import type { Session } from "./session.js";

export interface Metrics {
  readonly examples: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly mse?: number;
  readonly mae?: number;
}

/** The input of `loss` that `predict` does not take: what the model is trained to predict. */
export function labelInput(model: ModelProgram): { name: string; dtype: "f32" | "i32" } | undefined {
  const loss = entryOf(model, "loss");
  const predict = entryOf(model, "predict");
  if (!loss || !predict) return undefined;
  const features = new Set(predict.inputs.map((i) => i.name));
  const label = loss.inputs.filter((i) => !features.has(i.name));
  return label.length === 1 ? { name: label[0]!.name, dtype: label[0]!.dtype } : undefined;
}

/** A batch as the arrays an entry point takes, shaped [size, ...row shape]. */
export function batchInputs(ds: Dataset, batch: Batch, names?: readonly string[]): Map<string, NDArray> {
  const out = new Map<string, NDArray>();
  for (const [name, data] of batch.inputs) {
    if (names && !names.includes(name)) continue;
    out.set(name, { shape: [batch.size, ...ds.inputs.get(name)!.rowShape], data });
  }
  return out;
}

export async function evaluate(session: Session, ds: Dataset, rows: Uint32Array, batchSize: number): Promise<Metrics> {
  const { model, backend } = session;
  const loss = entryOf(model, "loss");
  const predict = entryOf(model, "predict");
  const label = labelInput(model);
  let examples = 0;
  let lossSum = 0;
  let correct = 0;
  let squared = 0;
  let absolute = 0;
  for (const batch of batches(ds, rows, batchSize, false)) {
    examples += batch.size;
    if (loss) {
      const out = await backend.run("loss", batchInputs(ds, batch, loss.inputs.map((i) => i.name)));
      lossSum += out.get("loss")!.data[0]! * batch.size;
    }
    if (predict && label) {
      const out = await backend.run("predict", batchInputs(ds, batch, predict.inputs.map((i) => i.name)));
      const p = out.get(predict.outputs[0]!.name)!.data;
      const y = batch.inputs.get(label.name)!;
      if (p.length !== y.length) throw new Error(`predict gives ${p.length / batch.size} values per example, the label has ${y.length / batch.size}`);
      for (let i = 0; i < y.length; i++) {
        if (label.dtype === "i32") correct += p[i] === y[i] ? 1 : 0;
        else {
          const d = p[i]! - y[i]!;
          squared += d * d;
          absolute += Math.abs(d);
        }
      }
    }
  }
  const base = { examples, loss: lossSum / Math.max(examples, 1) };
  if (!predict || !label) return base;
  return label.dtype === "i32" ? { ...base, accuracy: correct / examples } : { ...base, mse: squared / examples, mae: absolute / examples };
}
