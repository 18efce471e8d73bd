// Dawn's native log lines stay out of the output of commands that open a
// WebGPU adapter, through the real command line (cli/supervise.ts); --verbose
// shows them, and the supervising process is invisible otherwise: exit codes,
// stdin, stdout and signals are the command's own.

import test from "ava";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { needsChild } from "../../cli/supervise.js";
import { dlc } from "../helpers/cli.js";
import { ROOT } from "../helpers/paths.js";

const TRAIN = ["train", "models/iris.ts", "--data", "data/iris.csv", "--epochs", "1"];
const DAWN = /artificially reduced|Vulkan|vkCreateInstance/;

test("training on WebGPU prints no driver lines; --verbose shows Dawn's", (t) => {
  const quiet = dlc([...TRAIN, "--backend", "webgpu"]);
  t.is(quiet.status, 0, quiet.stderr);
  t.is(quiet.stderr, "");
  t.regex(quiet.stdout, /^dlc: training iris\.ts on .*\(software\)/);
  const verbose = dlc([...TRAIN, "--backend", "webgpu", "--verbose", "--quiet"]);
  t.is(verbose.status, 0, verbose.stderr);
  t.regex(verbose.stderr, /^Warning: .*artificially reduced/m);
});

test("without a Vulkan driver, --backend auto falls back to the CPU in one line and nothing on stderr", (t) => {
  // The loader finds no driver: Dawn and the loader log their failures natively.
  const env = { VK_ICD_FILENAMES: "/nonexistent/icd.json", VK_DRIVER_FILES: "/nonexistent/icd.json" };
  const r = dlc([...TRAIN, "--backend", "auto"], { env });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, "");
  t.regex(r.stdout.split("\n")[0]!, /^dlc: training iris\.ts on CPU .*\(auto: no WebGPU adapter\)/);
  const asked = dlc([...TRAIN, "--backend", "webgpu"], { env });
  t.is(asked.status, 1);
  t.is(asked.stderr, "dlc: no WebGPU adapter found (on a machine without a GPU, ./scripts/install-webgpu-cpu.sh installs a software one); or use the CPU backend\n");
  t.regex(dlc([...TRAIN, "--backend", "webgpu", "--verbose"], { env }).stderr, DAWN);
});

test("a supervised command's exit code and messages are its own", (t) => {
  const r = dlc(["eval", "models/iris.ts", "--weights", "missing.safetensors", "--data", "data/iris.csv", "--backend", "webgpu"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /^dlc: .*missing\.safetensors/);
  t.notRegex(r.stderr, DAWN);
});

test("a signal sent to the command stops the run, and the command dies of it", async (t) => {
  const child = spawn(process.execPath, [join(ROOT, "bin/dlc.js"), ...TRAIN.slice(0, -1), "100000", "--backend", "webgpu"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  // Wait until training has started, then stop it.
  while (!stdout.includes("dlc: training")) await new Promise((r) => setTimeout(r, 50));
  child.kill("SIGTERM");
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on("close", (c, s) => r([c, s])));
  t.is(code, null);
  t.is(signal, "SIGTERM");
});

test("which commands run supervised: those that may open WebGPU, unless on the CPU or verbose", (t) => {
  t.true(needsChild(["train", "m.ts", "--data", "d.csv"], {}));
  t.true(needsChild(["eval", "m.dlc", "--backend", "webgpu"], {}));
  t.true(needsChild(["predict", "--backend=auto", "m.dlc"], {}));
  t.false(needsChild(["train", "m.ts", "--backend", "cpu"], {}));
  t.false(needsChild(["train", "m.ts", "--backend=cpu-js"], {}));
  t.false(needsChild(["train", "m.ts", "--verbose"], {}));
  t.false(needsChild(["compile", "m.ts"], {}));
  t.false(needsChild(["train", "--help"], {}));
  t.false(needsChild(["train", "m.ts"], { DLC_SUPERVISED: "1" }), "the child itself runs the command");
});
