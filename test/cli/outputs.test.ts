// Nothing lost: an output that is one of the run's inputs is refused before
// anything is written, an output that cannot be written is refused before any
// work, and a write that fails anyway is one line with the path and the reason.

import test from "ava";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCheckpoint } from "../../runtime/checkpoint/index.js";
import { dlc, irisArtifactAndWeights, type CliResult } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-outputs-"));

/** One line on stderr, no stack trace, and nothing on stdout (no epoch was run). */
function refusedEarly(t: import("ava").ExecutionContext, r: CliResult, status: number, message: RegExp): void {
  t.is(r.status, status, r.stderr);
  t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  t.notRegex(r.stderr, /internal error|    at /);
  t.regex(r.stderr, message);
  t.is(r.stdout, "");
}

// One artifact and one checkpoint for the whole file.
const shared = tmp();
const { artifact, weights } = irisArtifactAndWeights(shared);

test("compile -o onto the model's own source is refused and the source is kept", (t) => {
  const dir = tmp();
  const model = join(dir, "m.ts");
  copyFileSync("models/iris.ts", model);
  const before = readFileSync(model, "utf8");
  refusedEarly(t, dlc(["compile", model, "-o", model]), 2, /-o '.*m\.ts' is the same file as the model '.*m\.ts': refusing to overwrite an input/);
  symlinkSync(model, join(dir, "link.ts"));
  refusedEarly(t, dlc(["compile", model, "-o", join(dir, "link.ts")]), 2, /-o '.*link\.ts' is the same file as the model/);
  t.is(readFileSync(model, "utf8"), before);
});

test("predict --out onto --data, or through a symlink to it, is refused and the data kept", (t) => {
  const dir = tmp();
  const data = join(dir, "x.csv");
  copyFileSync("data/iris.csv", data);
  const before = readFileSync(data, "utf8");
  const predict = (out: string) => dlc(["predict", "--backend", "cpu", artifact, "--weights", weights, "--data", data, "--out", out]);
  refusedEarly(t, predict(data), 2, /--out '.*x\.csv' is the same file as --data '.*x\.csv'/);
  symlinkSync(data, join(dir, "y.csv"));
  refusedEarly(t, predict(join(dir, "y.csv")), 2, /--out '.*y\.csv' is the same file as --data '.*x\.csv'/);
  // The same folder spelled another way.
  refusedEarly(t, dlc(["predict", "--backend", "cpu", artifact, "--weights", weights, "--data", data, "--out", join(dir, ".", "..", dir.split("/").pop()!, "x.csv")]), 2, /same file as --data/);
  t.is(readFileSync(data, "utf8"), before);
});

test("predict --out onto the --weights checkpoint or the artifact is refused", (t) => {
  const dir = tmp();
  const w = join(dir, "w.safetensors");
  copyFileSync(weights, w);
  const before = readFileSync(w);
  refusedEarly(t, dlc(["predict", "--backend", "cpu", artifact, "--weights", w, "--data", "data/iris.csv", "--out", w]), 2, /--out '.*w\.safetensors' is the same file as --weights/);
  t.deepEqual(readFileSync(w), before);
  refusedEarly(t, dlc(["predict", "--backend", "cpu", artifact, "--weights", w, "--data", "data/iris.csv", "--out", artifact]), 2, /is the same file as the model/);
});

test("train --save onto the artifact or the data is refused; onto its own --resume checkpoint it continues", (t) => {
  const dir = tmp();
  const a = join(dir, "a.dlc");
  copyFileSync(artifact, a);
  const before = readFileSync(a);
  refusedEarly(t, dlc(["train", "--backend", "cpu", a, "--data", "data/iris.csv", "--epochs", "1", "--save", a]), 2, /--save '.*a\.dlc' is the same file as the model '.*a\.dlc'/);
  t.deepEqual(readFileSync(a), before);
  const data = join(dir, "d.csv");
  copyFileSync("data/iris.csv", data);
  refusedEarly(t, dlc(["train", "--backend", "cpu", a, "--data", "data/iris.csv", "--test", data, "--epochs", "1", "--save", data]), 2, /--save '.*d\.csv' is the same file as --test/);

  const w = join(dir, "w.safetensors");
  copyFileSync(weights, w);
  const resumed = dlc(["train", "--backend", "cpu", a, "--data", "data/iris.csv", "--epochs", "1", "--quiet", "--resume", w, "--save", w]);
  t.is(resumed.status, 0, resumed.stderr);
  t.is(loadCheckpoint(w).metadata.epoch, "2");
});

test("train --save into a missing folder, under a regular file, or onto a folder fails before training", (t) => {
  const dir = tmp();
  writeFileSync(join(dir, "file"), "");
  mkdirSync(join(dir, "folder"));
  const train = (save: string) => dlc(["train", "--backend", "cpu", artifact, "--data", "data/iris.csv", "--epochs", "1", "--save", save]);
  refusedEarly(t, train("/nonexistent/x.st"), 2, /--save '\/nonexistent\/x\.st': the folder '\/nonexistent' does not exist/);
  refusedEarly(t, train(join(dir, "file", "x.st")), 2, /--save '.*file\/x\.st': '.*file' is not a folder/);
  refusedEarly(t, train(join(dir, "file", "sub", "x.st")), 2, /--save '.*x\.st': a component of '.*file\/sub' is not a folder/);
  refusedEarly(t, train(join(dir, "folder")), 2, /--save '.*folder' is a folder; expected a file name/);
});

test("predict --out into a missing folder or onto a folder fails before predicting", (t) => {
  const dir = tmp();
  const predict = (out: string) => dlc(["predict", "--backend", "cpu", artifact, "--weights", weights, "--data", "data/iris.csv", "--out", out]);
  refusedEarly(t, predict(join(dir, "missing", "p.csv")), 2, /--out '.*missing\/p\.csv': the folder '.*missing' does not exist/);
  refusedEarly(t, predict(dir), 2, /--out '.*' is a folder; expected a file name/);
});

test("compile -o into a missing folder fails before compiling", (t) => {
  refusedEarly(t, dlc(["compile", "models/iris.ts", "-o", "/nonexistent/m.dlc"]), 2, /-o '\/nonexistent\/m\.dlc': the folder '\/nonexistent' does not exist/);
});

// /sys passes the early checks as root (access() says writable) but refuses to create files:
// the write itself fails, which must still be one line, exit code 1, after the work.
test("a write that fails anyway is one line with the path and the reason, exit code 1", (t) => {
  const r = dlc(["predict", "--backend", "cpu", artifact, "--weights", weights, "--data", "data/iris.csv", "--out", "/sys/preds.csv"]);
  if (r.status === 2 && /not writable|does not exist/.test(r.stderr)) {
    t.log(`this system refuses /sys before the write: ${r.stderr.trim()}`);
    t.pass();
    return;
  }
  t.is(r.status, 1, r.stderr);
  t.regex(r.stderr, /^dlc: cannot write '\/sys\/preds\.csv': .*\(E[A-Z]+\)\n$/);
});

test("the temp file of a save killed with -9 is removed by the next save into that folder", (t) => {
  const dir = tmp();
  const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
  const stale = `.w.safetensors.${dead}.0a1b2c3d4e5f.tmp`;
  writeFileSync(join(dir, stale), "half a checkpoint");
  const r = dlc(["train", "--backend", "cpu", artifact, "--data", "data/iris.csv", "--epochs", "1", "--quiet", "--save", join(dir, "w.safetensors")]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(readdirSync(dir), ["w.safetensors"]);
});
