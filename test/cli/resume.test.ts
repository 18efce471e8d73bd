// Checkpoints that continue the run they came from, and bind to the data and
// the model they were trained on (issue 16: items 4, 5, 6 and 9): `--resume`
// keeps the seed, split, normalization and data settings and the schedule's
// horizon; eval, predict and resume bind feature columns by name; another
// model's checkpoint and a corrupted one are refused with one line.

import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadArtifact } from "../../runtime/artifact/file.js";
import { createBackend } from "../../runtime/backends.js";
import { loadCheckpoint, saveCheckpoint, TENSOR_SHA256 } from "../../runtime/checkpoint/index.js";
import { entryOf } from "../../runtime/program/model.js";
import { saveSession } from "../../runtime/train/checkpoint-file.js";
import { allRows } from "../../runtime/train/data.js";
import { loadFor } from "../../runtime/train/load.js";
import { stepsPerEpoch, trainEpochs } from "../../runtime/train/loop.js";
import { startSession } from "../../runtime/train/session.js";
import { dlc, type CliResult } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-resume-"));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number | string>;
const tensorsOf = (path: string) => new Map([...loadCheckpoint(path).tensors].map(([k, v]) => [k, [...v.data]]));

function ok(t: { is(a: unknown, b: unknown, m?: string): void }, r: CliResult): CliResult {
  t.is(r.status, 0, r.stderr);
  return r;
}

/** One line on stderr, exit code 2, matching `pattern`. */
function refused(t: { is(a: unknown, b: unknown, m?: string): void; regex(s: string, r: RegExp): void }, r: CliResult, pattern: RegExp): void {
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  t.regex(r.stderr, pattern);
}

function sameTensors(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, a: string, b: string): void {
  const x = tensorsOf(a);
  const y = tensorsOf(b);
  t.deepEqual([...x.keys()].sort(), [...y.keys()].sort());
  for (const [k, v] of y) t.deepEqual(x.get(k), v, k);
}

/** The iris model with another optimizer schedule, in its own folder. */
function irisWith(schedule: string): string {
  const file = join(tmp(), "iris.ts");
  writeFileSync(file, readFileSync("models/iris.ts", "utf8").replace("sgd({ lr: 0.1, momentum: 0.9 })", `sgd({ lr: 0.1, momentum: 0.9, schedule: ${schedule} })`));
  return file;
}

/** iris.csv with its columns in another order (species first, the features reversed). */
function reorderedIris(dir: string): string {
  const file = join(dir, "reordered.csv");
  const lines = readFileSync("data/iris.csv", "utf8").trim().split("\n");
  writeFileSync(file, lines.map((l) => { const c = l.split(","); return [c[4], c[3], c[2], c[1], c[0]].join(","); }).join("\n") + "\n");
  return file;
}

const cpu = ["--backend", "cpu", "--quiet"];
const irisSplit = ["models/iris.ts", "--data", "data/iris.csv", "--split", "0.2", "--normalize", "standard", "--seed", "8"];

// ---- item 4: a resumed run keeps its seed, split, normalization and data settings

test("a resume without --seed keeps the checkpoint's seed, split and normalization: 2 + 1 epochs equal 3", (t) => {
  const dir = tmp();
  const whole = lastJson(ok(t, dlc(["train", "--backend", "cpu", ...irisSplit, "--epochs", "3", "--json", "--save", join(dir, "whole.st")])).stdout);
  ok(t, dlc(["train", ...cpu, ...irisSplit, "--epochs", "2", "--save", join(dir, "part.st")]));
  // No --seed, --split or --normalize: all three come from the checkpoint.
  const resumed = lastJson(ok(t, dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--resume", join(dir, "part.st"), "--epochs", "1", "--json", "--save", join(dir, "resumed.st")])).stdout);
  sameTensors(t, join(dir, "resumed.st"), join(dir, "whole.st"));
  t.is(resumed.test_accuracy, whole.test_accuracy);
  t.is(resumed.test_loss, whole.test_loss);
});

test("a flag that conflicts with the resumed checkpoint is an error naming both values; one that agrees is accepted", (t) => {
  const dir = tmp();
  const ckpt = join(dir, "p.st");
  ok(t, dlc(["train", ...cpu, ...irisSplit, "--epochs", "1", "--batch", "16", "--save", ckpt]));
  const resume = (...flags: string[]) => dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--resume", ckpt, "--epochs", "1", "--quiet", ...flags]);
  refused(t, resume("--seed", "3"), /^dlc: --seed 3 conflicts with the checkpoint's seed 8; /);
  refused(t, resume("--split", "0.3"), /^dlc: --split 0\.3 conflicts with the checkpoint's split 0\.2; /);
  refused(t, resume("--test", "data/iris.csv"), /^dlc: --test conflicts with the checkpoint's split 0\.2 /);
  refused(t, resume("--normalize", "minmax"), /^dlc: --normalize minmax conflicts with the checkpoint's normalization standard; /);
  refused(t, resume("--normalize", "none"), /--normalize none conflicts with the checkpoint's normalization standard/);
  refused(t, resume("--batch", "32"), /^dlc: --batch 32 conflicts with the checkpoint's batch size 16; /);
  refused(t, resume("--drop-last"), /^dlc: --drop-last conflicts with the checkpoint's setting \(trained without --drop-last\)/);
  refused(t, resume("--label", "sepal_length"), /^dlc: --label sepal_length conflicts with the checkpoint's setting \(trained without --label\)/);
  ok(t, resume("--seed", "8", "--split", "0.2", "--normalize", "standard", "--batch", "16"));
});

test("a resumed split must be drawn from the same number of rows", (t) => {
  const dir = tmp();
  ok(t, dlc(["train", ...cpu, ...irisSplit, "--epochs", "1", "--save", join(dir, "p.st")]));
  const shorter = join(dir, "shorter.csv");
  writeFileSync(shorter, readFileSync("data/iris.csv", "utf8").trim().split("\n").slice(0, -1).join("\n") + "\n");
  refused(t, dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", shorter, "--resume", join(dir, "p.st"), "--epochs", "1"]), /shorter\.csv has 149 rows, but the checkpoint's split 0\.2 was drawn from 150/);
});

test("a checkpoint that predates the recorded settings resumes with its seed; the settings it lacks come from the flags, as before", (t) => {
  const dir = tmp();
  const ckpt = join(dir, "p.st");
  ok(t, dlc(["train", ...cpu, ...irisSplit, "--epochs", "1", "--save", ckpt]));
  const { tensors, metadata } = loadCheckpoint(ckpt);
  const old = Object.fromEntries(Object.entries(metadata).filter(([k]) => ["format", "model", "model_hash", "epoch", "step", "seed", "optimizer", "norm_kind", "norm_input"].includes(k)));
  saveCheckpoint(ckpt, tensors, old);
  refused(t, dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--resume", ckpt, "--seed", "3", "--epochs", "1"]), /--seed 3 conflicts with the checkpoint's seed 8/);
  const r = ok(t, dlc(["train", ...cpu, "models/iris.ts", "--data", "data/iris.csv", "--resume", ckpt, "--split", "0.3", "--batch", "8", "--epochs", "1", "--save", ckpt]));
  t.is(r.stderr, "");
  const meta = loadCheckpoint(ckpt).metadata;
  t.like(meta, { seed: "8", batch: "8", split: JSON.stringify({ fraction: 0.3, rows: 150 }), normalize: "standard", epoch: "2" });
});

// ---- item 5: the schedule's horizon is part of the resumed state

test("an interrupted cosine run resumed without --epochs finishes its plan, bit-identical to the uninterrupted run", async (t) => {
  const model = irisWith(`{ kind: "cosine", min: 0.001 }`);
  const dir = tmp();
  const artifact = join(dir, "iris.dlc");
  ok(t, dlc(["compile", model, "-o", artifact, "--quiet"]));
  ok(t, dlc(["train", ...cpu, artifact, "--data", "data/iris.csv", "--epochs", "5", "--save", join(dir, "whole.st")]));

  // The first 2 epochs of a 5-epoch run, stopped there as a killed process would be (its last checkpoint).
  const program = loadArtifact(artifact);
  const backend = await createBackend(program, "cpu");
  try {
    const config = { ...program.train!.config, epochs: 5 };
    const session = await startSession(program, backend, config);
    const data = await loadFor(entryOf(program, "loss")!, "data/iris.csv");
    const perEpoch = stepsPerEpoch(data.rows, config.batch, false);
    session.run = { batch: config.batch, dropLast: false, lr: config.optimizer.lr, normalize: "none", split: undefined, label: undefined, featureColumns: data.featureColumns, epochs: 5, horizon: 5 * perEpoch };
    await trainEpochs(session, { ds: data, rows: allRows(data) }, undefined, { epochs: 2, batch: config.batch, dropLast: false, lr: config.optimizer.lr, horizon: 5 * perEpoch });
    await saveSession(session, join(dir, "interrupted.st"));
  } finally {
    backend.dispose();
  }

  const resume = (out: string, ...flags: string[]) => ok(t, dlc(["train", ...cpu, artifact, "--data", "data/iris.csv", "--resume", join(dir, "interrupted.st"), "--save", join(dir, out), ...flags]));
  resume("finished.st");
  sameTensors(t, join(dir, "finished.st"), join(dir, "whole.st"));
  t.is(loadCheckpoint(join(dir, "finished.st")).metadata.epoch, "5");
  // --epochs 3 on resume means 3 more: within the plan, the same run.
  resume("three-more.st", "--epochs", "3");
  sameTensors(t, join(dir, "three-more.st"), join(dir, "whole.st"));
  // One more epoch then the rest: still the same run, and the plan stays 5 epochs.
  resume("one-more.st", "--epochs", "1");
  t.is(loadCheckpoint(join(dir, "one-more.st")).metadata.plan_epochs, "5");
  ok(t, dlc(["train", ...cpu, artifact, "--data", "data/iris.csv", "--resume", join(dir, "one-more.st"), "--save", join(dir, "one-more.st")]));
  sameTensors(t, join(dir, "one-more.st"), join(dir, "whole.st"));
  // A finished plan is not silently extended.
  refused(t, dlc(["train", ...cpu, artifact, "--data", "data/iris.csv", "--resume", join(dir, "whole.st")]), /whole\.st: the run has finished its plan of 5 epochs; pass --epochs N to train N more/);
});

test("under a step schedule, 2 epochs then 3 more equal 5 epochs bit for bit, and the extended plan is recorded", (t) => {
  const model = irisWith(`{ kind: "step", every: 7, gamma: 0.5 }`);
  const dir = tmp();
  const common = [model, "--data", "data/iris.csv", "--split", "0.2", "--normalize", "standard", "--seed", "4"];
  ok(t, dlc(["train", ...cpu, ...common, "--epochs", "5", "--save", join(dir, "whole.st")]));
  ok(t, dlc(["train", ...cpu, ...common, "--epochs", "2", "--save", join(dir, "part.st")]));
  ok(t, dlc(["train", ...cpu, model, "--data", "data/iris.csv", "--resume", join(dir, "part.st"), "--epochs", "3", "--save", join(dir, "resumed.st")]));
  sameTensors(t, join(dir, "resumed.st"), join(dir, "whole.st"));
  const meta = loadCheckpoint(join(dir, "resumed.st")).metadata;
  t.is(meta.plan_epochs, "5");
  t.is(meta.horizon_steps, loadCheckpoint(join(dir, "whole.st")).metadata.horizon_steps);
});

// ---- item 6: feature columns bind by name

test("eval, predict and resume bind the feature columns by name, whatever their order in the file", (t) => {
  const dir = tmp();
  const weights = join(dir, "w.st");
  ok(t, dlc(["train", ...cpu, ...irisSplit, "--epochs", "20", "--save", weights]));
  t.deepEqual(JSON.parse(loadCheckpoint(weights).metadata.feature_columns!), ["sepal_length", "sepal_width", "petal_length", "petal_width"]);
  const reordered = reorderedIris(dir);
  const evalOn = (data: string) => lastJson(ok(t, dlc(["eval", "--backend", "cpu", "models/iris.ts", "--weights", weights, "--data", data, "--json"])).stdout);
  const original = evalOn("data/iris.csv");
  t.true((original.accuracy as number) > 0.9);
  t.deepEqual(evalOn(reordered), original);
  const predictOn = (data: string) => ok(t, dlc(["predict", "--backend", "cpu", "models/iris.ts", "--weights", weights, "--data", data, "--out", "-"])).stdout;
  t.is(predictOn(reordered), predictOn("data/iris.csv"));
  ok(t, dlc(["train", ...cpu, "models/iris.ts", "--data", "data/iris.csv", "--resume", weights, "--epochs", "1", "--save", join(dir, "a.st")]));
  ok(t, dlc(["train", ...cpu, "models/iris.ts", "--data", reordered, "--resume", weights, "--epochs", "1", "--save", join(dir, "b.st")]));
  sameTensors(t, join(dir, "b.st"), join(dir, "a.st"));
});

test("a feature column missing from the data is named; a column the model was not trained on is an error", (t) => {
  const dir = tmp();
  const weights = join(dir, "w.st");
  ok(t, dlc(["train", ...cpu, "models/iris.ts", "--data", "data/iris.csv", "--epochs", "1", "--save", weights]));
  const lines = readFileSync("data/iris.csv", "utf8").trim().split("\n");
  const renamed = join(dir, "renamed.csv");
  writeFileSync(renamed, [lines[0]!.replace("petal_width", "petal_w"), ...lines.slice(1)].join("\n") + "\n");
  refused(t, dlc(["eval", "--backend", "cpu", "models/iris.ts", "--weights", weights, "--data", renamed]), /renamed\.csv:1: 'x' expects column 'petal_width', which the header lacks \(it has sepal_length, sepal_width, petal_length, petal_w, species\)/);
  refused(t, dlc(["predict", "--backend", "cpu", "models/iris.ts", "--weights", weights, "--data", renamed, "--out", "-"]), /expects column 'petal_width'/);
  const extra = join(dir, "extra.csv");
  writeFileSync(extra, lines.map((l, i) => `${l},${i === 0 ? "id" : i}`).join("\n") + "\n");
  refused(t, dlc(["eval", "--backend", "cpu", "models/iris.ts", "--weights", weights, "--data", extra]), /extra\.csv:1: column id is not among the 4 feature columns 'x' was trained on/);
});

test("a --test file binds to the training file's feature columns by name", (t) => {
  const dir = tmp();
  const a = lastJson(ok(t, dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--test", "data/iris.csv", "--epochs", "5", "--json"])).stdout);
  const b = lastJson(ok(t, dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--test", reorderedIris(dir), "--epochs", "5", "--json"])).stdout);
  t.is(b.test_accuracy, a.test_accuracy);
  t.is(b.test_loss, a.test_loss);
});

// ---- item 9: the checkpoint's model and bytes are checked

test("a checkpoint of another model with the same shapes is refused on eval, predict and resume, naming both models", (t) => {
  const dir = tmp();
  const weights = join(dir, "w.st");
  ok(t, dlc(["train", ...cpu, "models/iris.ts", "--data", "data/iris.csv", "--epochs", "1", "--save", weights]));
  const other = join(dir, "other.ts");
  writeFileSync(other, readFileSync("models/iris.ts", "utf8").replace(`param("w", [4, classes], "zeros")`, `param("w", [4, classes], "glorot")`));
  const hash = loadCheckpoint(weights).metadata.model_hash!.slice(0, 12);
  const message = new RegExp(`w\\.st: the checkpoint is of model 'iris\\.ts' \\(source hash ${hash}\\), not of 'other\\.ts' \\(source hash [0-9a-f]{12}\\)`);
  refused(t, dlc(["eval", "--backend", "cpu", other, "--weights", weights, "--data", "data/iris.csv"]), message);
  refused(t, dlc(["predict", "--backend", "cpu", other, "--weights", weights, "--data", "data/iris.csv", "--out", "-"]), message);
  refused(t, dlc(["train", "--backend", "cpu", other, "--data", "data/iris.csv", "--resume", weights, "--epochs", "1"]), message);
});

test("a flipped byte in a checkpoint's tensor data is caught, naming the file and the tensor", (t) => {
  const dir = tmp();
  const weights = join(dir, "w.st");
  ok(t, dlc(["train", ...cpu, "models/iris.ts", "--data", "data/iris.csv", "--normalize", "standard", "--epochs", "1", "--save", weights]));
  t.truthy(loadCheckpoint(weights).metadata[TENSOR_SHA256]);
  const bytes = readFileSync(weights);
  bytes[bytes.length - 3]! ^= 0x01; // in the last tensor by name: "w"
  const flipped = join(dir, "flipped.st");
  writeFileSync(flipped, bytes);
  for (const args of [["eval"], ["predict", "--out", "-"]]) {
    refused(t, dlc([...args, "--backend", "cpu", "models/iris.ts", "--weights", flipped, "--data", "data/iris.csv"]), /flipped\.st: tensor "w" does not match its checksum \(sha256 [0-9a-f]{12}, recorded [0-9a-f]{12}\); the file is corrupted/);
  }
  refused(t, dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--resume", flipped, "--epochs", "1"]), /flipped\.st: tensor "w" does not match its checksum/);
});
