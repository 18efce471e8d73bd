// --threads: the CPU backend's products on that many threads (this one and
// workers), said in the start line; one and two threads train to the same
// bits (each output element is summed by one thread, in one order), and
// cpu-js is the JavaScript interpreter. A bad count is a usage error.

import test from "ava";
import { dlc } from "../helpers/cli.js";

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
const digits = ["train", "models/digits.ts", "--data", "data/digits.csv", "--split", "0.2", "--epochs", "1", "--json"];

test("one and two threads train digits to the same weights and test loss, and say how many they used", (t) => {
  const one = dlc([...digits, "--backend", "cpu", "--threads", "1"]);
  const two = dlc([...digits, "--backend", "cpu", "--threads", "2"]);
  t.is(one.status, 0, one.stderr);
  t.is(two.status, 0, two.stderr);
  const [a, b] = [lastJson(one.stdout), lastJson(two.stdout)];
  t.regex(String(a.device), /WebAssembly SIMD128, float32, 1 thread\)/);
  t.regex(String(b.device), /WebAssembly SIMD128, float32, 2 threads\)/);
  t.is(a.train_loss, b.train_loss);
  t.is(a.test_loss, b.test_loss);
  const js = lastJson(dlc([...digits, "--backend", "cpu-js"]).stdout);
  t.regex(String(js.device), /JavaScript/);
  t.true(Math.abs((js.test_loss as number) - (a.test_loss as number)) < 1e-4);
});

test("--threads 0 is a usage error", (t) => {
  const r = dlc(["train", "models/iris.ts", "--data", "data/iris.csv", "--threads", "0"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /--threads/);
});
