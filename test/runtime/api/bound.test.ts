// A model bound to a backend, through the programmatic API: entry points as
// functions of tensors, parameters by name, one optimizer step, `fit`, and
// checkpoints. `fit` is checked against `dlc train` (the same weights, bit
// for bit), a step against the gradient entry (SGD's first step is
// w - lr * grad), and a model loaded from its artifact against the compiled one.

import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../../../compiler/api.js";
import { ArgumentError } from "../../../runtime/api/errors.js";
import { Model } from "../../../runtime/api/model.js";
import type { WebGpuBackend } from "../../../runtime/webgpu/backend.js";
import { KERNEL_CHOICES } from "../../../runtime/webgpu/kernel-family.js";
import { loadCheckpoint } from "../../../runtime/checkpoint/index.js";
import { DataError } from "../../../runtime/data/types.js";
import { dlc } from "../../helpers/cli.js";
import { relativeError } from "../../helpers/gradcheck.js";
import { ROOT } from "../../helpers/paths.js";

const IRIS = join(ROOT, "models/iris.ts");
const IRIS_CSV = join(ROOT, "data/iris.csv");
const iris = compile(IRIS, { grad: ["loss"], webgpu: false });
const tmp = () => mkdtempSync(join(tmpdir(), "dlc-api-"));

const X = Float32Array.from([5.1, 3.5, 1.4, 0.2, 6.3, 2.9, 5.6, 1.8]);

test("entry points take typed arrays, { shape, data } and plain numbers, and give copies of their outputs", async (t) => {
  const m = await iris.on("cpu-js", { seed: 2 });
  await m.setParams({ w: { shape: [4, 3], data: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1] }, b: [0, 0.5, 0] });
  const logits = await m.entries.logits!(X);
  t.deepEqual(logits.shape, [2, 3]);
  t.is(logits.dtype, "f32");
  // x @ w + b, row by row.
  const expected = [5.1, 3.5 + 0.5, 1.4 + 0.2, 6.3, 2.9 + 0.5, 5.6 + 1.8];
  t.true(relativeError(logits.data, expected) < 1e-7);
  const classes = await m.entries.predict!({ shape: [2, 4], data: [...X] });
  t.deepEqual(classes, { shape: [2], dtype: "i32", data: Int32Array.from([0, 2]) });
  const named = await m.run("predict", { x: X });
  t.deepEqual(named.predict, classes);
  t.deepEqual(await m.entries.predict!(Float64Array.from(X)), classes, "float64 data is rounded to float32");
  await m.entries.logits!(Float32Array.from([0, 0, 0, 0]));
  t.true(relativeError(logits.data, expected) < 1e-7, "an earlier result is not overwritten");
  m.dispose();
});

test("a tensor that does not fit is an ArgumentError naming the entry, the input and both shapes", async (t) => {
  const m = await iris.on("cpu-js");
  await t.throwsAsync(() => m.entries.predict!(new Float32Array(6)), { instanceOf: ArgumentError, message: "predict: input 'x' expects f32[batch, 4]: 6 values are not a whole number of rows of 4" });
  await t.throwsAsync(() => m.entries.predict!({ shape: [2, 3], data: new Float32Array(6) }), { instanceOf: ArgumentError, message: "predict: input 'x' expects f32[batch, 4], got [2, 3]" });
  await t.throwsAsync(() => m.entries.predict!({ shape: [2, 4], data: new Float32Array(6) }), { instanceOf: ArgumentError, message: "predict: input 'x': the shape [2, 4] holds 8 values, the data has 6" });
  await t.throwsAsync(() => m.entries.loss!(X), { instanceOf: ArgumentError, message: "loss takes 2 inputs (x: f32[batch, 4], species: i32[batch]), got 1" });
  await t.throwsAsync(() => m.entries.loss!(X, [0.5, 1]), { instanceOf: ArgumentError, message: "loss: input 'species' is i32: element 0 is 0.5, not an integer" });
  await t.throwsAsync(() => m.run("predict", { x: X, y: X }), { instanceOf: ArgumentError, message: "predict: 'y' is not one of its inputs (x)" });
  await t.throwsAsync(() => m.setParam("w", new Float32Array(3)), { instanceOf: ArgumentError, message: "parameter 'w' expects f32[4, 3], got 3 values" });
  await t.throwsAsync(() => m.getParam("v"), { instanceOf: ArgumentError, message: "the model has no parameter 'v' (it has w, b)" });
  await t.throwsAsync(() => m.run("nope", {}), { instanceOf: ArgumentError, message: /no entry point 'nope' \(it has logits, predict, loss, loss\.grad\)/ });
  m.dispose();
});

test("parameters start from the seed as dlc train's do, and round-trip by name", async (t) => {
  const m = await iris.on("cpu", { seed: 5 });
  const all = await m.params();
  t.deepEqual(Object.keys(all), ["w", "b"]);
  t.deepEqual([...all.w!.data], new Array(12).fill(0), "iris initializes w with zeros");
  const w = Float32Array.from({ length: 12 }, (_, i) => i / 10);
  await m.setParam("w", w);
  t.deepEqual(await m.getParam("w"), { shape: [4, 3], dtype: "f32", data: w });
  m.dispose();
});

test("step is one SGD step: w - lr * grad from the gradient entry, at the optimizer's rate", async (t) => {
  const m = await iris.on("cpu");
  await m.setParams({ w: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), b: [0.1, -0.2, 0.3] });
  const species = Int32Array.from([0, 2]);
  const { value, grads } = await m.valueAndGrad("loss")(X, species);
  const before = await m.params();
  const loss = await m.step({ x: X, species });
  t.is(loss, value);
  const lr = iris.trainConfig!.optimizer.lr;
  for (const name of ["w", "b"]) {
    const expected = before[name]!.data.map((v, i) => v - lr * grads.params[name]!.data[i]!);
    t.true(relativeError((await m.getParam(name)).data, expected) < 1e-6, name);
  }
  t.is(m.session.step, 1);
  await t.throwsAsync(() => m.step({ x: X }), { instanceOf: ArgumentError, message: "step: input 'species' of loss (i32[batch]) was not given" });
  m.dispose();
});

test("fit runs dlc train's loop: the same weights bit for bit, the same test metrics, every step and epoch reported", async (t) => {
  const dir = tmp();
  const weights = join(dir, "w.safetensors");
  const r = dlc(["train", IRIS, "--data", IRIS_CSV, "--split", "0.2", "--normalize", "standard", "--seed", "8", "--epochs", "4", "--backend", "cpu", "--save", weights, "--json"]);
  t.is(r.status, 0, r.stderr);
  const cli = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  const m = await iris.on("cpu", { seed: 8 });
  let steps = 0;
  const epochs: number[] = [];
  const result = await m.fit(IRIS_CSV, { split: 0.2, normalize: "standard", epochs: 4, onStep: () => steps++, onEpoch: (e) => void epochs.push(e.epoch) });
  t.deepEqual(epochs, [0, 1, 2, 3]);
  t.is(steps, cli.steps);
  t.is(result.epochs.length, 4);
  t.is(result.test!.accuracy, cli.test_accuracy);
  t.is(result.test!.loss, cli.test_loss);
  t.is(result.epochs.at(-1)!.trainLoss, cli.train_loss);
  const ckpt = loadCheckpoint(weights);
  for (const [name, value] of Object.entries(await m.params())) t.deepEqual(value.data, ckpt.tensors.get(name)!.data, name);
  // Its own checkpoint resumes and evaluates like the CLI's.
  await m.save(join(dir, "api.safetensors"));
  const e = dlc(["eval", IRIS, "--weights", join(dir, "api.safetensors"), "--data", IRIS_CSV, "--backend", "cpu", "--json"]);
  t.is(e.status, 0, e.stderr);
  const metrics = await m.evaluate(IRIS_CSV);
  t.is(JSON.parse(e.stdout).accuracy, metrics.accuracy);
  t.deepEqual(JSON.parse(e.stdout).confusion, metrics.confusion);
  m.dispose();
});

test("fit takes arrays in memory as it takes the CSV file", async (t) => {
  const fromCsv = await iris.on("cpu-js", { seed: 3 });
  await fromCsv.fit(IRIS_CSV, { epochs: 2, batch: 32 });
  const ds = await (await import("../../../runtime/train/load.js")).loadFor(iris.program.entries.find((e) => e.name === "loss")!, IRIS_CSV);
  const x = ds.inputs.get("x")!.data;
  const species = ds.inputs.get("species")!.data;
  const fromArrays = await iris.on("cpu-js", { seed: 3 });
  await fromArrays.fit({ x: { shape: [ds.rows, 4], data: x }, species }, { epochs: 2, batch: 32 });
  t.deepEqual(await fromArrays.params(), await fromCsv.params());
  await t.throwsAsync(() => fromArrays.fit({ x }, { epochs: 1 }), { instanceOf: DataError, message: "<arrays>: no array for input 'species' of 'loss'" });
  await t.throwsAsync(() => fromArrays.fit({ x, species: Int32Array.from(species, (v) => v + 1) }, { epochs: 1 }), { instanceOf: DataError, message: /holds 3 at element \d+; expected a class in 0\.\.2/ });
  fromCsv.dispose();
  fromArrays.dispose();
});

test("a model loaded from its artifact, without the compiler, computes what the compiled one does; weights load from a checkpoint", async (t) => {
  const dir = tmp();
  const trained = await iris.on("cpu", { seed: 1 });
  await trained.fit(IRIS_CSV, { epochs: 3, normalize: "standard" });
  await trained.save(join(dir, "w.safetensors"));
  iris.save(join(dir, "iris.dlc"));
  const loaded = Model.load(join(dir, "iris.dlc"));
  t.deepEqual(loaded.program, Model.fromBytes(iris.artifact).program);
  t.deepEqual(loaded.gradients, ["loss"]);
  const again = await loaded.on("cpu", { weights: join(dir, "w.safetensors") });
  t.deepEqual(await again.params(), await trained.params());
  t.deepEqual(await again.predict(IRIS_CSV), await trained.predict(IRIS_CSV));
  const p = await again.predict(IRIS_CSV);
  t.deepEqual(p.shape, [150]);
  t.deepEqual(await again.valueAndGrad("loss")(X, [0, 2]), await trained.valueAndGrad("loss")(X, [0, 2]));
  await t.throwsAsync(() => loaded.on("webgpu"), { instanceOf: ArgumentError, message: /compiled without WebGPU programs/ });
  trained.dispose();
  again.dispose();
});

for (const kernels of KERNEL_CHOICES) test.serial(`on WebGPU with kernels: "${kernels}", entry points, a step and fit agree with the CPU's`, async (t) => {
  const both = compile(IRIS);
  const [gpu, cpu] = [await both.on("webgpu", { seed: 4, kernels }), await both.on("cpu-js", { seed: 4 })];
  t.is(gpu.backend.kind, "webgpu");
  // This adapter is a software one: auto is the software family.
  t.is((gpu.backend as WebGpuBackend).kernels, kernels === "hardware" ? "hardware" : "software");
  for (const m of [gpu, cpu]) {
    await m.setParams({ w: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), b: [0.3, 0, -0.3] });
  }
  t.deepEqual(await gpu.entries.predict!(X), await cpu.entries.predict!(X));
  t.true(relativeError((await gpu.entries.logits!(X)).data, (await cpu.entries.logits!(X)).data) < 1e-6);
  const species = [1, 2];
  t.true(Math.abs((await gpu.step({ x: X, species })) - (await cpu.step({ x: X, species }))) < 1e-5);
  const [g, c] = [await gpu.fit(IRIS_CSV, { epochs: 2, normalize: "standard", split: 0.2 }), await cpu.fit(IRIS_CSV, { epochs: 2, normalize: "standard", split: 0.2 })];
  t.true(Math.abs(g.epochs[1]!.trainLoss - c.epochs[1]!.trainLoss) < 1e-4);
  for (const name of ["w", "b"]) t.true(relativeError((await gpu.getParam(name)).data, (await cpu.getParam(name)).data) < 1e-4, name);
  gpu.dispose();
  cpu.dispose();
});

test("an unknown kernel family is an ArgumentError", async (t) => {
  await t.throwsAsync(() => compile(IRIS).on("webgpu", { kernels: "tensor" as never }), { instanceOf: ArgumentError, message: /unknown kernels 'tensor': expected auto, software, hardware/ });
});
