// Evaluation: the mean loss over a data set, and the metric of its task.
// A classification (`predict` returns i32 classes, or the label is an i32
// class) gets accuracy and a confusion matrix, also when the label column is
// a float 0/1 that a hand-written loss reads as a number; a regression (float
// predictions of a float target) gets MSE and MAE. Predictions come from the
// model's `predict` entry point.

import type { NDArray } from "../cpu/ndarray.js";
import { batches, type Batch } from "../data/batches.js";
import type { Dataset } from "../data/types.js";
import { entryOf, type ModelProgram } from "../program/model.js";
import type { Session } from "./session.js";

export interface Metrics {
  readonly examples: number;
  readonly loss: number;
  readonly accuracy?: number;
  /** Classifications: confusion[label][predicted] counts examples, over classes 0..n-1 (n: the most seen, or the label's class count). */
  readonly confusion?: number[][];
  readonly mse?: number;
  readonly mae?: number;
}

/** A confusion matrix wider than this many classes is left out (a label that is not a class index, say). */
export const MAX_CONFUSION_CLASSES = 1000;

export type Task = "classification" | "regression";

/** The input of `loss` that `predict` does not take: what the model is trained to predict, and so which task it is. */
export function labelInput(model: ModelProgram): { name: string; dtype: "f32" | "i32"; task: Task; classes?: number } | undefined {
  const loss = entryOf(model, "loss");
  const predict = entryOf(model, "predict");
  if (!loss || !predict) return undefined;
  const features = new Set(predict.inputs.map((i) => i.name));
  const label = loss.inputs.filter((i) => !features.has(i.name));
  if (label.length !== 1) return undefined;
  const { name, dtype, classes } = label[0]!;
  const task = dtype === "i32" || predict.outputs[0]?.dtype === "i32" ? "classification" : "regression";
  return { name, dtype, task, ...(classes !== undefined ? { classes } : {}) };
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
  // (label, predicted) pairs of whole class numbers, counted; the matrix is built at the end, when the classes are known.
  const pairs = new Map<number, number>();
  let widest = (label?.classes ?? 0) - 1;
  let unclassed = false;
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
        if (label.task === "classification") {
          const [truth, guess] = [y[i]!, p[i]!];
          correct += guess === truth ? 1 : 0;
          if (isClass(truth) && isClass(guess)) {
            widest = Math.max(widest, truth, guess);
            const key = truth * (MAX_CONFUSION_CLASSES + 1) + guess;
            pairs.set(key, (pairs.get(key) ?? 0) + 1);
          } else unclassed = true;
        } else {
          const d = p[i]! - y[i]!;
          squared += d * d;
          absolute += Math.abs(d);
        }
      }
    }
  }
  const base = { examples, loss: lossSum / Math.max(examples, 1) };
  if (!predict || !label) return base;
  if (label.task === "regression") return { ...base, mse: squared / examples, mae: absolute / examples };
  const accuracy = { ...base, accuracy: correct / Math.max(examples, 1) };
  if (unclassed || widest < 0) return accuracy;
  const confusion = Array.from({ length: widest + 1 }, () => new Array<number>(widest + 1).fill(0));
  for (const [key, n] of pairs) confusion[Math.floor(key / (MAX_CONFUSION_CLASSES + 1))]![key % (MAX_CONFUSION_CLASSES + 1)] = n;
  return { ...accuracy, confusion };
}

const isClass = (v: number) => Number.isInteger(v) && v >= 0 && v < MAX_CONFUSION_CLASSES;
