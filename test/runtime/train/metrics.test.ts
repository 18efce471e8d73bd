// Classification metrics follow `predict`: a model whose `predict` returns
// i32 classes is a classification even when its label column is a float 0/1
// read by a hand-written loss. Its accuracy and confusion matrix are checked
// against predictions computed here by hand from the weights; a float
// `predict` of a float target stays a regression (MSE, MAE).

import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import { loadCheckpoint } from "../../../runtime/checkpoint/index.js";
import { allRows } from "../../../runtime/train/data.js";
import { loadFor } from "../../../runtime/train/load.js";
import { evaluate, labelInput } from "../../../runtime/train/metrics.js";
import { startSession } from "../../../runtime/train/session.js";
import { entryOf } from "../../../runtime/program/model.js";
import { FALLBACK_TRAIN } from "../../../runtime/program/train-config.js";
import { Random } from "../../../runtime/random.js";
import { sourceCompilation } from "../../helpers/compile.js";
import { dlc } from "../../helpers/cli.js";

// Logistic regression with a float 0/1 label and binary cross-entropy written out by hand.
const BINARY = `import { type Tensor, param, matmul, reshape, greater, mean, softplus, sgd } from "dlc";
function score(x: Tensor<["batch", 2]>): Tensor<["batch"]> {
  return reshape(matmul(x, param("w", [2, 1], "zeros")), [-1]) + param("b", [1], "zeros");
}
export function predict(x: Tensor<["batch", 2]>): Tensor<["batch"], "i32"> {
  return greater(score(x), 0);
}
export function loss(x: Tensor<["batch", 2]>, y: Tensor<["batch"]>): Tensor<[]> {
  const z = score(x);
  return mean(softplus(z) - y * z);
}
export const train = { optimizer: sgd({ lr: 0.5 }), batch: 8, epochs: 5, seed: 1 };
`;

/** Two noisy clusters: y = 1 around (1, 1), 0 around (-1, -1); some points cross over. */
function csv(rows: number, seed: number): { text: string; x: Float32Array; y: Float32Array } {
  const rng = new Random(seed, 7);
  const x = new Float32Array(rows * 2);
  const y = new Float32Array(rows);
  const lines = ["a,b,y"];
  for (let r = 0; r < rows; r++) {
    y[r] = r % 2;
    const c = y[r] === 1 ? 1 : -1;
    x[2 * r] = Math.fround(c + 1.5 * rng.normal());
    x[2 * r + 1] = Math.fround(c + 1.5 * rng.normal());
    lines.push(`${x[2 * r]},${x[2 * r + 1]},${y[r]}`);
  }
  return { text: lines.join("\n") + "\n", x, y };
}

/** Accuracy and confusion[label][predicted] of the rule score > 0, computed in float64 from the weights. */
function byHand(w: Float32Array, b: Float32Array, x: Float32Array, y: Float32Array): { accuracy: number; confusion: number[][] } {
  const confusion = [
    [0, 0],
    [0, 0],
  ];
  for (let r = 0; r < y.length; r++) {
    const p = x[2 * r]! * w[0]! + x[2 * r + 1]! * w[1]! + b[0]! > 0 ? 1 : 0;
    confusion[y[r]!]![p]!++;
  }
  return { accuracy: (confusion[0]![0]! + confusion[1]![1]!) / y.length, confusion };
}

test("a float 0/1 label with an i32 predict is a classification: accuracy and confusion match predictions by hand", async (t) => {
  const model = sourceCompilation(BINARY).model({ training: true });
  t.like(labelInput(model), { name: "y", dtype: "f32", task: "classification" });
  const dir = mkdtempSync(join(tmpdir(), "dlc-metrics-"));
  const data = csv(200, 3);
  writeFileSync(join(dir, "d.csv"), data.text);
  const backend = new CpuBackend(model, { engine: "js" });
  const session = await startSession(model, backend, FALLBACK_TRAIN);
  const w = Float32Array.from([0.8, -0.3]);
  const b = Float32Array.from([0.2]);
  await backend.load(new Map([["w", w], ["b", b]]));
  const ds = await loadFor(entryOf(model, "loss")!, join(dir, "d.csv"));
  const m = await evaluate(session, ds, allRows(ds), 64);
  const expected = byHand(w, b, data.x, data.y);
  t.is(m.accuracy, expected.accuracy);
  t.deepEqual(m.confusion, expected.confusion);
  t.is(m.mse, undefined);
  t.true(expected.confusion.every((row) => row.every((n) => n > 0)), "every cell is exercised");
});

test("dlc train and dlc eval --json report accuracy and the confusion matrix for a float label", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-metrics-"));
  writeFileSync(join(dir, "binary.ts"), BINARY);
  const train = csv(240, 4);
  const test_ = csv(100, 5);
  writeFileSync(join(dir, "train.csv"), train.text);
  writeFileSync(join(dir, "test.csv"), test_.text);
  const weights = join(dir, "w.safetensors");
  const r = dlc(["train", "--backend", "cpu", join(dir, "binary.ts"), "--data", join(dir, "train.csv"), "--test", join(dir, "test.csv"), "--save", weights, "--json"]);
  t.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  t.is(s.task, "classification");
  const ckpt = loadCheckpoint(weights);
  const expected = byHand(ckpt.tensors.get("w")!.data as Float32Array, ckpt.tensors.get("b")!.data as Float32Array, test_.x, test_.y);
  t.is(s.test_accuracy, expected.accuracy);
  t.deepEqual(s.test_confusion, expected.confusion);
  t.true(s.test_accuracy > 0.7, `accuracy ${s.test_accuracy}`);
  t.is(s.test_mse, undefined);

  const e = dlc(["eval", "--backend", "cpu", join(dir, "binary.ts"), "--weights", weights, "--data", join(dir, "test.csv"), "--json"]);
  t.is(e.status, 0, e.stderr);
  const m = JSON.parse(e.stdout.trim());
  t.is(m.accuracy, expected.accuracy);
  t.deepEqual(m.confusion, expected.confusion);
  const text = dlc(["eval", "--backend", "cpu", join(dir, "binary.ts"), "--weights", weights, "--data", join(dir, "test.csv")]);
  t.regex(text.stdout, /^100 examples {2}loss \d\.\d{4} {2}accuracy \d\.\d{4}\n$/);
});

test("a float predict of a float target stays a regression", async (t) => {
  const model = sourceCompilation(`import { type Tensor, param, matmul, reshape, mean } from "dlc";
export function predict(x: Tensor<["batch", 2]>): Tensor<["batch"]> { return reshape(matmul(x, param("w", [2, 1], "zeros")), [-1]); }
export function loss(x: Tensor<["batch", 2]>, y: Tensor<["batch"]>): Tensor<[]> { const d = predict(x) - y; return mean(d * d); }
`).model({ training: true });
  t.like(labelInput(model), { name: "y", task: "regression" });
  const session = await startSession(model, new CpuBackend(model, { engine: "js" }), FALLBACK_TRAIN);
  await session.backend.load(new Map([["w", Float32Array.from([1, 2])]]));
  const x = Float32Array.from([1, 0, 0, 1, 1, 1]);
  const y = Float32Array.from([1, 1, 1]);
  const ds = { file: "mem", rows: 3, header: [], inputs: new Map([["x", { dtype: "f32" as const, width: 2, rowShape: [2], data: x }], ["y", { dtype: "f32" as const, width: 1, rowShape: [], data: y }]]) };
  const m = await evaluate(session, ds, allRows(ds), 2);
  // Predictions 1, 2, 3 against 1: squared errors 0, 1, 4; absolute 0, 1, 2.
  t.is(m.mse, 5 / 3);
  t.is(m.mae, 1);
  t.is(m.accuracy, undefined);
  t.is(m.confusion, undefined);
});
