// `dlc profile` through the real command line: the table, --json and
// --trace on the CPU (from a model source and from an artifact), WebGPU by
// timestamp queries and, forced, per dispatch (on lavapipe where there is no
// GPU; without an adapter they fail), and bad input as one line, exit 2.

import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dlc } from "../helpers/cli.js";
import { checkChromeTrace } from "../helpers/profile.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-profile-"));
const digits = ["profile", "models/digits.ts", "--data", "data/digits.csv", "--batch", "32", "--steps", "2", "--warmup", "1"];

interface Summary {
  backend: string;
  method: string;
  batch: number;
  steps: number;
  step_ms: number;
  kernels: { name: string; ops: string[]; calls: number; ms: number; flops: number; bytes: number; share: number }[];
  total: { calls: number; flops: number };
}

test("--json: every kernel called once a step, shares adding up to 1, FLOPs to dlc inspect's; --trace: a Chrome trace of the same calls", (t) => {
  const dir = tmp();
  const trace = join(dir, "trace.json");
  const r = dlc([...digits, "--backend", "cpu", "--threads", "1", "--json", "--trace", trace]);
  t.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as Summary;
  t.is(s.backend, "cpu");
  t.is(s.method, "wall-clock");
  t.is(s.steps, 2);
  t.true(s.kernels.every((k) => k.calls === 2));
  t.is(s.total.calls, 2 * s.kernels.length);
  t.true(Math.abs(s.kernels.reduce((a, k) => a + k.share, 0) - 1) < 1e-9);
  const inspect = JSON.parse(dlc(["inspect", "models/digits.ts", "--batch", "32", "--json"]).stdout) as { flops_per_train_step: number };
  t.is(s.total.flops, inspect.flops_per_train_step);
  t.is(s.kernels.reduce((a, k) => a + k.flops, 0), inspect.flops_per_train_step);
  t.true(s.kernels.some((k) => k.name === "matmul 32x64x128" && k.bytes === 4 * (32 * 64 + 64 * 128 + 32 * 128)));

  const { steps, kernels } = checkChromeTrace(t, readFileSync(trace, "utf8"));
  t.is(steps.length, 2);
  t.is(kernels.length, s.total.calls);
  const names = (xs: { name: string }[]) => [...new Set(xs.map((x) => x.name))].sort();
  t.deepEqual(names(kernels), names(s.kernels));
});

test("the table, from an artifact on the JavaScript interpreter: a header with the method and step time, one row per kernel, a totals line", (t) => {
  const dir = tmp();
  const artifact = join(dir, "digits.dlc");
  t.is(dlc(["compile", "models/digits.ts", "-o", artifact, "--quiet"]).status, 0);
  const r = dlc(["profile", artifact, "--data", "data/digits.csv", "--batch", "16", "--steps", "1", "--warmup", "0", "--backend", "cpu-js"]);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  t.regex(lines[0]!, /^dlc profile: digits\.ts on CPU reference interpreter .*, batch 16: 1 steps after 0 warm-up$/);
  t.regex(lines[1]!, /^timing: wall-clock /);
  t.regex(lines[2]!, /^step: [\d.]+ ms wall, [\d.]+ ms in (\d+) kernels/);
  const kernels = Number(/in (\d+) kernels/.exec(lines[2]!)![1]);
  t.regex(lines[4]!, /^kernel +calls +ms +share +FLOP\/call +bytes\/call +GFLOP\/s +GB\/s +ops$/);
  const rows = lines.slice(5, -1);
  t.is(rows.length, kernels);
  t.true(rows.some((l) => /^matmul 16x64x128 +1 /.test(l)), rows.join("\n"));
  t.regex(lines.at(-1)!, new RegExp(`^total +${kernels} +[\\d.]+ +100\\.0% `));
});

test("WebGPU: timestamp queries where the adapter has them; --no-timestamps times each dispatch alone", (t) => {
  const timestamps = dlc([...digits, "--backend", "webgpu"]);
  t.is(timestamps.status, 0, timestamps.stderr);
  t.regex(timestamps.stdout, /\ntiming: timestamp-query \(GPU timestamp queries/);
  t.regex(timestamps.stdout, /\nmatmul\+/);
  const perDispatch = dlc([...digits, "--backend", "webgpu", "--no-timestamps", "--json"]);
  t.is(perDispatch.status, 0, perDispatch.stderr);
  const s = JSON.parse(perDispatch.stdout) as Summary;
  t.is(s.backend, "webgpu");
  t.is(s.method, "per-dispatch");
  t.true(s.kernels.every((k) => k.calls === 2));
  // The hardware family, forced on this software adapter: the same kernels, FLOPs and bytes, other code.
  const hardware = dlc([...digits, "--backend", "webgpu", "--kernels", "hardware", "--no-timestamps", "--json"]);
  t.is(hardware.status, 0, hardware.stderr);
  const h = JSON.parse(hardware.stdout) as Summary;
  t.is(h.kernels.length, s.kernels.length);
  t.true(h.kernels.every((k) => k.calls === 2));
  t.is(h.total.flops, s.total.flops);
  t.is(h.kernels.reduce((a, k) => a + k.bytes, 0), s.kernels.reduce((a, k) => a + k.bytes, 0));
});

const oneLine = (t: import("ava").ExecutionContext, r: { status: number | null; stderr: string }, pattern: RegExp) => {
  t.is(r.status, 2, r.stderr);
  t.is(r.stderr.trim().split("\n").length, 1, r.stderr);
  t.regex(r.stderr, pattern);
  t.notRegex(r.stderr, /\bat .*:\d+:\d+/, "no stack trace");
};

test("bad input is one line, exit 2: no --data, a missing data file, bad --steps or --warmup, a --trace over an input or in no folder", (t) => {
  oneLine(t, dlc(["profile", "models/digits.ts", "--backend", "cpu"]), /required option '--data <file>' not specified/);
  oneLine(t, dlc(["profile", "models/digits.ts", "--data", "data/nope.csv", "--backend", "cpu"]), /data\/nope\.csv/);
  oneLine(t, dlc([...digits, "--steps", "0"]), /--steps must be a positive integer, got '0'/);
  oneLine(t, dlc([...digits, "--steps", "ten"]), /--steps must be a positive integer, got 'ten'/);
  oneLine(t, dlc([...digits, "--warmup", "-1"]), /--warmup must be a non-negative integer/);
  oneLine(t, dlc(["profile", "models/nope.ts", "--data", "data/digits.csv"]), /cannot read 'models\/nope\.ts'/);
  const dir = tmp();
  const data = join(dir, "digits.csv");
  writeFileSync(data, readFileSync("data/digits.csv"));
  oneLine(t, dlc(["profile", "models/digits.ts", "--data", data, "--trace", data, "--backend", "cpu"]), /--trace '.*digits\.csv' is the same file as --data .*refusing to overwrite an input/);
  t.deepEqual(readFileSync(data), readFileSync("data/digits.csv"));
  oneLine(t, dlc(["profile", "models/digits.ts", "--data", data, "--trace", "models/digits.ts", "--backend", "cpu"]), /is the same file as the model/);
  oneLine(t, dlc([...digits, "--backend", "cpu", "--trace", join(dir, "no", "trace.json")]), /the folder '.*no' does not exist/);
});
