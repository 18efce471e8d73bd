// `dlc train --plot curve.svg` and the history in `--json`: the SVG draws the
// values the history holds, and the history agrees with what an independent
// evaluation of the same weights says.

import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EpochRecord } from "../../cli/history.js";
import { niceTicks, plotHistory } from "../../cli/plot.js";
import { dlc } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-plot-"));
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, number | string | EpochRecord[]>;

/** Every polyline's points, in pixels. */
const polylines = (svg: string) => [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number]));

test("ticks are round numbers, 1, 2 or 5 times a power of ten apart, that cover the range", (t) => {
  t.deepEqual(niceTicks(0, 2.07, 5), [0, 0.5, 1, 1.5, 2, 2.5]);
  t.deepEqual(niceTicks(0.73, 1, 5), [0.7, 0.8, 0.9, 1]);
  t.deepEqual(niceTicks(1, 15, 6), [0, 5, 10, 15]);
  t.deepEqual(niceTicks(3, 3, 5), [2.4, 2.6, 2.8, 3, 3.2, 3.4, 3.6], "a flat series gets a unit-wide axis around it");
});

test("the plot draws each series where its values lie, on a linear axis", (t) => {
  const history: EpochRecord[] = [1, 2, 3, 4].map((epoch) => ({ epoch, train_loss: 2 / epoch, test_loss: 2.2 / epoch, train_accuracy: 0.5 + epoch / 10, test_accuracy: 0.45 + epoch / 10, seconds: 1 }));
  const svg = plotHistory(history, "m.ts");
  const lines = polylines(svg);
  t.is(lines.length, 4, "train and test loss, train and test accuracy");
  for (const [line, key] of [[lines[0]!, "train_loss"], [lines[1]!, "test_loss"], [lines[2]!, "train_accuracy"], [lines[3]!, "test_accuracy"]] as const) {
    t.is(line.length, 4);
    // Equal epoch steps are equal x steps; y is affine in the value: (y - y0) / (v - v0) is one constant.
    const dx = line.slice(1).map((p, i) => p[0] - line[i]![0]);
    for (const d of dx) t.true(Math.abs(d - dx[0]!) < 0.2, key);
    const slope = (line[3]![1] - line[0]![1]) / (history[3]![key]! - history[0]![key]!);
    for (let i = 1; i < 3; i++) t.true(Math.abs(line[0]![1] + slope * (history[i]![key]! - history[0]![key]!) - line[i]![1]) < 0.2, key);
    t.true(slope < 0, "larger values are higher up");
  }
  t.regex(svg, /train loss 0\.5000/, "the legend gives the last value");
  t.regex(svg, /test accuracy 0\.8500/);
});

test("a NaN breaks the line; names are escaped", (t) => {
  const history: EpochRecord[] = [2, 1, NaN, 0.5, 0.25].map((v, i) => ({ epoch: i + 1, train_loss: v, seconds: 1 }));
  const svg = plotHistory(history, "<m & n>.ts");
  t.deepEqual(polylines(svg).map((l) => l.length), [2, 2]);
  t.true(svg.includes("&lt;m &amp; n&gt;.ts"));
  t.false(svg.includes("<m &"));
  t.notRegex(svg, /NaN/);
});

test("dlc train --plot writes the SVG of the history that --json prints, and the train accuracy is that of the weights", (t) => {
  const dir = tmp();
  const plot = join(dir, "digits.svg");
  const weights = join(dir, "digits.safetensors");
  // The test rows are the training rows: evaluated the same way, their metrics must agree.
  const args = ["train", "--backend", "cpu", "models/digits.ts", "--data", "data/digits.csv", "--test", "data/digits.csv", "--epochs", "4", "--seed", "3", "--json", "--plot", plot, "--save", weights];
  const r = dlc(args);
  t.is(r.status, 0, r.stderr);
  const s = lastJson(r.stdout);
  const history = s.history as EpochRecord[];
  t.deepEqual(history.map((h) => h.epoch), [1, 2, 3, 4]);
  for (const h of history) {
    t.is(h.train_accuracy, h.test_accuracy);
    t.true(h.train_loss > 0 && h.seconds > 0);
  }
  t.is(history.at(-1)!.test_loss, s.test_loss as number);
  t.is(history.at(-1)!.train_loss, s.train_loss as number);
  const evaluated = lastJson(dlc(["eval", "--backend", "cpu", "models/digits.ts", "--weights", weights, "--data", "data/digits.csv", "--json"]).stdout);
  t.is(history.at(-1)!.train_accuracy, evaluated.accuracy as number);
  const svg = readFileSync(plot, "utf8");
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.is(polylines(svg).length, 4);
  t.true(svg.includes(`train accuracy ${history.at(-1)!.train_accuracy!.toPrecision(4)}`));
  t.is(s.plot, plot);
});

test("without --plot, the history has no train accuracy; a regression plots its test MAE", (t) => {
  const dir = tmp();
  const s = lastJson(dlc(["train", "--backend", "cpu", "models/diabetes.ts", "--data", "data/diabetes.csv", "--split", "0.2", "--normalize", "standard", "--epochs", "3", "--json"]).stdout);
  const history = s.history as EpochRecord[];
  t.is(history.length, 3);
  t.false("train_accuracy" in history[0]!);
  t.is(typeof history[0]!.test_mae, "number");
  const plot = join(dir, "d.svg");
  t.is(dlc(["train", "--backend", "cpu", "models/diabetes.ts", "--data", "data/diabetes.csv", "--split", "0.2", "--epochs", "3", "--quiet", "--plot", plot]).status, 0);
  t.regex(readFileSync(plot, "utf8"), /mean absolute error/);
});

test("--plot never overwrites an input or the checkpoint", (t) => {
  const dir = tmp();
  const same = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--plot", join(dir, "x"), "--save", join(dir, "x")]);
  t.is(same.status, 2);
  t.regex(same.stderr, /--plot and --save both name/);
  const data = dlc(["train", "--backend", "cpu", "models/iris.ts", "--data", "data/iris.csv", "--plot", "data/iris.csv"]);
  t.is(data.status, 2);
  t.regex(data.stderr, /--plot 'data\/iris\.csv' is the same file as --data/);
});
