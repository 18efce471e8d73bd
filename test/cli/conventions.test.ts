// The command line behaves like a tool people already trust: help with
// examples on every command, --version, unknown flags with a suggestion,
// exit codes 0/1/2, --json everywhere, and bad input as one clear line with
// nothing half-written left behind.

import test from "ava";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dlc } from "../helpers/cli.js";
import { ROOT } from "../helpers/paths.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-cli-"));
const oneLine = (t: import("ava").ExecutionContext, stderr: string, pattern: RegExp) => {
  t.is(stderr.trim().split("\n").length, 1, `one line: ${stderr}`);
  t.regex(stderr, pattern);
  t.notRegex(stderr, /\bat .*:\d+:\d+/, "no stack trace");
};

for (const command of ["compile", "train", "eval", "predict", "inspect", "profile", "fetch", "serve"]) {
  test(`dlc ${command} --help describes the command with examples, exit 0`, (t) => {
    const r = dlc([command, "--help"]);
    t.is(r.status, 0);
    t.regex(r.stdout, new RegExp(`^Usage: dlc ${command} `));
    t.regex(r.stdout, /\nExamples:\n {2}dlc /);
  });
}

test("dlc --help lists every command, dlc --version prints the version", (t) => {
  const help = dlc(["--help"]);
  for (const c of ["compile", "train", "eval", "predict", "inspect", "profile", "fetch", "serve"]) t.regex(help.stdout, new RegExp(`\\n {2}${c}\\b`));
  t.is(dlc(["--version"]).stdout, `${JSON.parse(readFileSync("package.json", "utf8")).version}\n`);
});

test("an unknown flag is rejected with a did-you-mean, exit 2", (t) => {
  const r = dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--epoch", "3"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /unknown option '--epoch'/);
  t.regex(r.stderr, /Did you mean --epochs\?/);
});

test("an unknown command is rejected with a did-you-mean, exit 2", (t) => {
  const r = dlc(["trian", "models/iris.ts"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /Did you mean train\?/);
});

test("an unknown backend is one line naming the choices, exit 2", (t) => {
  const r = dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--backend", "cuda"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /argument 'cuda' is invalid\. Allowed choices are cpu, cpu-js, webgpu, auto/);
});

test("a missing model, data or weights file is one line naming it, exit 2", (t) => {
  oneLine(t, dlc(["train", "models/nope.ts", "--data", "data/iris.csv"]).stderr, /^dlc: cannot read 'models\/nope\.ts': no such file$/m);
  const data = dlc(["train", "models/iris.ts", "--data", "data/nope.csv", "--backend", "cpu"]);
  t.is(data.status, 2);
  oneLine(t, data.stderr, /data\/nope\.csv/);
  const weights = dlc(["eval", "models/iris.ts", "--weights", "nope.safetensors", "--data", "data/iris.csv", "--backend", "cpu"]);
  t.is(weights.status, 2);
  oneLine(t, weights.stderr, /nope\.safetensors/);
});

test("a truncated artifact is one line, exit 2, and nothing is written", (t) => {
  const dir = tmp();
  t.is(dlc(["compile", "models/iris.ts", "-o", join(dir, "iris.dlc"), "--quiet"]).status, 0);
  const whole = readFileSync(join(dir, "iris.dlc"));
  writeFileSync(join(dir, "cut.dlc"), whole.subarray(0, whole.length / 2));
  const r = dlc(["train", join(dir, "cut.dlc"), "--data", "data/iris.csv", "--save", join(dir, "w.safetensors"), "--backend", "cpu"]);
  t.is(r.status, 2);
  oneLine(t, r.stderr, /cut\.dlc: truncated/);
  t.false(existsSync(join(dir, "w.safetensors")));
});

test("a model that does not compile leaves no artifact behind", (t) => {
  const dir = tmp();
  const r = dlc(["compile", "test/corpus/bad/matmul-mismatch.ts", "-o", join(dir, "bad.dlc")]);
  t.is(r.status, 2);
  t.deepEqual(readdirSync(dir), []);
});

test("predicting with data that does not fit leaves no partial output file", (t) => {
  const dir = tmp();
  t.is(dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "1", "--save", join(dir, "w.safetensors"), "--quiet", "--backend", "cpu"]).status, 0);
  const r = dlc(["predict", "models/iris.ts", "--weights", join(dir, "w.safetensors"), "--data", "data/diabetes.csv", "--out", join(dir, "p.csv"), "--backend", "cpu"]);
  t.is(r.status, 2);
  oneLine(t, r.stderr, /diabetes\.csv/);
  t.deepEqual(readdirSync(dir), ["w.safetensors"]);
});

test("every command speaks JSON with --json", (t) => {
  const dir = tmp();
  const json = (args: string[]) => {
    const r = dlc(args);
    t.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  };
  t.is(json(["compile", "models/iris.ts", "-o", join(dir, "iris.dlc"), "--json"]).training, true);
  t.is(json(["train", join(dir, "iris.dlc"), "--data", "data/iris.csv", "--epochs", "2", "--save", join(dir, "w.safetensors"), "--json", "--backend", "cpu"]).epochs, 2);
  t.is(typeof json(["eval", join(dir, "iris.dlc"), "--weights", join(dir, "w.safetensors"), "--data", "data/iris.csv", "--json", "--backend", "cpu"]).accuracy, "number");
  t.is(json(["predict", join(dir, "iris.dlc"), "--weights", join(dir, "w.safetensors"), "--data", "data/iris.csv", "--out", join(dir, "p.csv"), "--json", "--backend", "cpu"]).rows, 150);
  t.is(typeof json(["inspect", join(dir, "iris.dlc"), "--json"]).kernels_per_train_step, "number");
});

test("--quiet prints nothing on success", (t) => {
  const r = dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "2", "--quiet", "--backend", "cpu"]);
  t.is(r.status, 0);
  t.is(r.stdout, "");
});

test("long output reaches a pipe whole before dlc exits (the CNN's WGSL, > 64 KB)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-pipe-"));
  const file = join(dir, "out.wgsl");
  const fd = openSync(file, "w");
  const toFile = spawnSync(process.execPath, [join(ROOT, "bin/dlc.js"), "compile", "models/cnn.ts", "--emit", "wgsl"], { cwd: ROOT, stdio: ["ignore", fd, "pipe"] });
  closeSync(fd);
  t.is(toFile.status, 0);
  const expected = readFileSync(file, "utf8");
  t.true(expected.length > 65536, `${expected.length} bytes`);
  // Through a shell pipe, as a user reads it (`| less`, `| wc -c`).
  const piped = spawnSync("sh", ["-c", `"${process.execPath}" bin/dlc.js compile models/cnn.ts --emit wgsl | cat`], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26 });
  t.is(piped.status, 0);
  t.is(piped.stdout.length, expected.length);
  t.is(piped.stdout, expected);
});
