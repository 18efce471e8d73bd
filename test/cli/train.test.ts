// `dlc train`, `dlc eval` and `dlc predict` on the CPU backend, through the
// real command line, on the real small data sets in data/.

import test from "ava";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCheckpoint } from "../../runtime/checkpoint/index.js";
import { dlc } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-train-"));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number | string>;

test("iris: the hand-written logistic regression reaches 0.95 test accuracy (seed 8, 20% split, standardized)", (t) => {
  const r = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--split", "0.2", "--normalize", "standard", "--seed", "8", "--json"]);
  t.is(r.status, 0, r.stderr);
  const s = lastJson(r.stdout);
  t.log(s);
  t.true((s.test_accuracy as number) >= 0.95);
  t.is(s.backend, "cpu");
  t.is(s.epochs, 200);
  t.is(s.steps, 200 * Math.ceil(120 / 16));
  for (const key of ["train_loss", "steps_per_second", "test_loss"]) t.is(typeof s[key], "number", key);
});

test("digits: an MLP reaches 0.95 test accuracy", (t) => {
  const r = dlc(["train", "--backend", "cpu", "models/digits.ts", "--data", "data/digits.csv", "--split", "0.2", "--json"]);
  t.is(r.status, 0, r.stderr);
  const s = lastJson(r.stdout);
  t.log(s);
  t.true((s.test_accuracy as number) >= 0.95);
});

test("diabetes: the regression beats predicting the training mean", (t) => {
  const r = dlc(["train", "--backend", "cpu", "models/diabetes.ts", "--data", "data/diabetes.csv", "--split", "0.2", "--normalize", "standard", "--json"]);
  t.is(r.status, 0, r.stderr);
  const s = lastJson(r.stdout);
  t.log(`test MSE ${s.test_mse}, predicting the mean ${s.test_mse_of_mean}`);
  t.true((s.test_mse as number) < (s.test_mse_of_mean as number));
  t.is(typeof s.test_mae, "number");
});

test("without a terminal, training prints plain epoch lines and no escape codes", (t) => {
  const r = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "3"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^epoch 1\/3 {2}train_loss \d+\.\d+ {2}.*steps\/s/m);
  t.regex(r.stdout, /^epoch 3\/3 /m);
  t.notRegex(r.stdout + r.stderr, /\u001b\[/);
});

function tensorsOf(path: string): Map<string, number[]> {
  return new Map([...loadCheckpoint(path).tensors].map(([k, v]) => [k, [...v.data]]));
}

test("2 epochs, saved, then 3 resumed epochs give bit-identical weights and optimizer state to 5 epochs", (t) => {
  const dir = tmp();
  const common = ["models/diabetes.ts", "--data", "data/diabetes.csv", "--split", "0.2", "--normalize", "standard", "--seed", "3", "--quiet"];
  t.is(dlc(["train", "--backend", "cpu", ...common, "--epochs", "2", "--save", join(dir, "a.safetensors")]).status, 0);
  const resumed = dlc(["train", "--backend", "cpu", ...common, "--epochs", "3", "--resume", join(dir, "a.safetensors"), "--save", join(dir, "b.safetensors")]);
  t.is(resumed.status, 0, resumed.stderr);
  t.is(dlc(["train", "--backend", "cpu", ...common, "--epochs", "5", "--save", join(dir, "c.safetensors")]).status, 0);
  const b = tensorsOf(join(dir, "b.safetensors"));
  const c = tensorsOf(join(dir, "c.safetensors"));
  t.deepEqual([...b.keys()].sort(), [...c.keys()].sort());
  t.true([...b.keys()].some((k) => k.startsWith("opt/m/")), "Adam's state is saved");
  for (const [k, v] of c) t.deepEqual(b.get(k), v, k);
  t.is(loadCheckpoint(join(dir, "b.safetensors")).metadata.epoch, "5");
  t.deepEqual(readdirSync(dir).sort(), ["a.safetensors", "b.safetensors", "c.safetensors"], "no temporary files are left");
});

test("a checkpoint holds parameters, optimizer state, normalization and the model hash", (t) => {
  const dir = tmp();
  t.is(dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--normalize", "standard", "--epochs", "1", "--quiet", "--save", join(dir, "i.safetensors")]).status, 0);
  const ckpt = loadCheckpoint(join(dir, "i.safetensors"));
  t.deepEqual([...ckpt.tensors.keys()].sort(), ["b", "norm/scale", "norm/shift", "opt/velocity/b", "opt/velocity/w", "w"]);
  t.deepEqual(ckpt.tensors.get("w")!.shape, [4, 3]);
  t.regex(ckpt.metadata.model_hash!, /^[0-9a-f]{64}$/);
  t.is(ckpt.metadata.norm_kind, "standard");
});

test("weights of another model are rejected, naming the first parameter that does not fit", (t) => {
  const dir = tmp();
  t.is(dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "1", "--quiet", "--save", join(dir, "iris.safetensors")]).status, 0);
  const r = dlc(["eval", "--backend", "cpu", "models/digits.ts", "--weights", join(dir, "iris.safetensors"), "--data", "data/digits.csv"]);
  t.is(r.status, 2);
  t.is(r.stderr.trim().split("\n").length, 1);
  t.regex(r.stderr, /iris\.safetensors: parameter "hidden\.w" is missing/);
});

test("eval reproduces the test metrics of training, and predict writes one prediction per row", (t) => {
  const dir = tmp();
  const weights = join(dir, "d.safetensors");
  const trained = dlc(["train", "--backend", "cpu", "models/digits.ts", "--data", "data/digits.csv", "--epochs", "3", "--json", "--test", "data/digits.csv", "--save", weights]);
  t.is(trained.status, 0, trained.stderr);
  const evaluated = dlc(["eval", "--backend", "cpu", "models/digits.ts", "--weights", weights, "--data", "data/digits.csv", "--json"]);
  t.is(evaluated.status, 0, evaluated.stderr);
  t.is(lastJson(evaluated.stdout).accuracy, lastJson(trained.stdout).test_accuracy);
  const out = join(dir, "preds.csv");
  const predicted = dlc(["predict", "--backend", "cpu", "models/digits.ts", "--weights", weights, "--data", "data/digits.csv", "--out", out]);
  t.is(predicted.status, 0, predicted.stderr);
  const lines = readFileSync(out, "utf8").trim().split("\n");
  t.is(lines[0], "predict");
  t.is(lines.length, 1 + 1797);
  t.true(lines.slice(1).every((l) => /^\d$/.test(l)));
});

test("a loss that becomes infinite or NaN stops training with the step number and a hint, exit code 1", (t) => {
  const dir = tmp();
  const model = join(dir, "explode.ts");
  writeFileSync(
    model,
    `import { type Tensor, param, matmul, mean, sgd } from "dlc";
export function loss(x: Tensor<["batch", 4]>, species: Tensor<["batch"], "i32">): Tensor<[]> {
  const y = matmul(x, param("w", [4, 1], "ones"));
  return mean(y * y);
}
export const train = { optimizer: sgd({ lr: 1 }), batch: 16, epochs: 5 };
`,
  );
  const r = dlc(["train", "--backend", "cpu", model, "--data", "data/iris.csv"]);
  t.is(r.status, 1);
  t.regex(r.stderr, /training stopped: the loss became (NaN|Infinity) at step \d+\n/);
  t.regex(r.stderr, /hint: lower the learning rate/);
});

test("a loss that grows by orders of magnitude warns once, on stderr and in --json; a healthy run does not", (t) => {
  const args = ["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "2", "--seed", "1"];
  const r = dlc([...args, "--lr", "1e6", "--json"]);
  t.is(r.status, 0, r.stderr);
  const warning = /^dlc: warning: the loss is diverging: [\d.e+]+ at step 2, more than 10000 times the first step's 1\.099; lower the learning rate/;
  t.is(r.stderr.split("\n").filter((l) => l !== "").length, 1, r.stderr);
  t.regex(r.stderr, warning);
  const s = lastJson(r.stdout) as Record<string, unknown>;
  t.like(s.diverging, { step: 2 });
  t.true((s.diverging as { loss: number }).loss > 1e4 * (s.diverging as { first_loss: number }).first_loss);
  t.is(dlc([...args, "--lr", "1e6", "--quiet"]).stderr, "", "--quiet prints nothing but errors");
  const healthy = dlc([...args, "--json"]);
  t.is(healthy.stderr, "");
  t.false("diverging" in lastJson(healthy.stdout));
});

test("bad CSV cells are reported with file:line:column, exit code 2", (t) => {
  const dir = tmp();
  const file = join(dir, "iris.csv");
  const lines = readFileSync("data/iris.csv", "utf8").split("\n");
  lines[3] = lines[3]!.replace(/^[^,]+/, "abc");
  writeFileSync(file, lines.join("\n"));
  const r = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", file, "--epochs", "1"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /iris\.csv:4:1: .*'abc'/);
});

test("labels out of range for the model's classes are reported, exit code 2", (t) => {
  const dir = tmp();
  const file = join(dir, "iris.csv");
  writeFileSync(file, readFileSync("data/iris.csv", "utf8").replace(/,2\n/, ",7\n"));
  const r = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", file, "--epochs", "1"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /label 7 is out of range for 3 classes/);
});

test("a data file whose columns do not fit the model is a usage error", (t) => {
  const r = dlc(["train", "--backend", "cpu", "models/digits.ts", "--data", "data/iris.csv", "--epochs", "1"]);
  t.is(r.status, 2);
  t.is(r.stderr.trim().split("\n").length, 1);
});

test("a negative epoch count is rejected before anything runs", (t) => {
  const r = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "-2"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /--epochs must be a positive integer/);
});
