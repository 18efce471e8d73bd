// A model with batch norm and dropout, run: the CPU and WebGPU steps draw the
// same dropout masks and move the same running statistics (five steps agree);
// the masks depend on the run's seed and the step; predict is deterministic
// and uses the running statistics; and a run stopped and resumed from its
// checkpoint ends bit-identical to the uninterrupted one.

import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { graphNodes } from "../../../compiler/ir/graph.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { loadCheckpoint } from "../../../runtime/checkpoint/index.js";
import { initialize } from "../../../runtime/init/init.js";
import { entryOf, type ModelProgram } from "../../../runtime/program/model.js";
import { Random } from "../../../runtime/random.js";
import { dlc } from "../../helpers/cli.js";
import { sourceCompilation } from "../../helpers/compile.js";
import { bothBackends, sameWeights } from "../../helpers/backends.js";
import { closeGpu } from "../../helpers/gpu.js";
import { relativeError } from "../../helpers/gradcheck.js";

test.after.always(closeGpu);

const MODEL = `
import { type Tensor, param, matmul, relu, batchNorm, dropout, softmaxCrossEntropy, argmax, adam } from "dlc";

function logits(x: Tensor<["batch", 4]>): Tensor<["batch", 3]> {
  const h = dropout(relu(batchNorm(matmul(x, param("w1", [4, 32], "he")), { name: "bn1", momentum: 0.9 })), 0.3);
  const h2 = dropout(relu(matmul(h, param("w2", [32, 16], "he"))), 0.2);
  return matmul(h2, param("w3", [16, 3], "glorot"));
}
export function predict(x: Tensor<["batch", 4]>): Tensor<["batch"], "i32"> {
  return argmax(logits(x), -1);
}
export function loss(x: Tensor<["batch", 4]>, species: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(x), species);
}
export const train = { optimizer: adam({ lr: 0.01 }), batch: 16, epochs: 4 };
`;

function model(): ModelProgram {
  return sourceCompilation(MODEL).model({ training: true, webgpu: true });
}

function batch(rng: Random, n: number): Map<string, NDArray> {
  return new Map<string, NDArray>([
    ["x", { shape: [n, 4], data: Float32Array.from({ length: n * 4 }, () => rng.uniform() * 4 - 2) }],
    ["species", { shape: [n], data: Int32Array.from({ length: n }, () => rng.int(3)) }],
  ]);
}

test.serial("the training step reads the random key; predict draws nothing and reads the running statistics", (t) => {
  const m = model();
  t.true(m.train!.abi.inputs.some((b) => b.role === "key"));
  const c = sourceCompilation(MODEL);
  t.true(graphNodes(c.step().graph).some((n) => n.op === "random"));
  t.false(graphNodes(c.simplified("predict")).some((n) => n.op === "random"));
  t.deepEqual(m.params.filter((p) => p.trainable === false).map((p) => p.name), ["bn1.mean", "bn1.variance"]);
});

test.serial("five steps on WebGPU and on the CPU agree: the same masks, the same running statistics", async (t) => {
  const m = model();
  const { onGpu, onCpu, values } = await bothBackends(t, m, 5);
  const rng = new Random(21, 2);
  for (let step = 1; step <= 5; step++) {
    const inputs = batch(rng, 13);
    const a = await onGpu.step(inputs, 0.01, step, true, 77);
    const b = await onCpu.step(inputs, 0.01, step, true, 77);
    t.true(Math.abs(a! - b!) <= 1e-5 * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} on WebGPU, ${b} on the CPU`);
  }
  t.true(relativeError((await onCpu.read()).get("bn1.mean")!, values.get("bn1.mean")!) > 0, "the running mean moved");
  await sameWeights(t, onGpu, onCpu);
  onGpu.dispose();
});

test.serial("the masks depend on the seed and the step; predict is deterministic", async (t) => {
  const m = model();
  const values = new Map(m.params.map((p) => [p.name, initialize(p.init, p.shape, 5, p.name)]));
  const lossOf = async (seed: number, step: number) => {
    const cpu = new CpuBackend(m);
    await cpu.load(values);
    return (await cpu.step(batch(new Random(4, 4), 32), 0, step, true, seed))!;
  };
  const base = await lossOf(1, 1);
  t.is(await lossOf(1, 1), base, "same seed and step, same masks");
  t.not(await lossOf(2, 1), base, "another seed");
  t.not(await lossOf(1, 2), base, "another step");

  const cpu = new CpuBackend(m);
  await cpu.load(values);
  const inputs = new Map([["x", batch(new Random(4, 4), 32).get("x")!]]);
  const first = [...(await cpu.run("predict", inputs)).get("predict")!.data];
  t.deepEqual([...(await cpu.run("predict", inputs)).get("predict")!.data], first);
  t.truthy(entryOf(m, "predict"));
});

for (const backend of ["cpu", "webgpu"]) {
  test.serial(`${backend}: 2 epochs, then 2 more from the checkpoint, equal 4 epochs bit for bit (dropout masks and running statistics included)`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), "dlc-modes-"));
    const file = join(dir, "model.ts");
    writeFileSync(file, MODEL);
    const common = ["--data", "data/iris.csv", "--split", "0.2", "--normalize", "standard", "--seed", "3", "--backend", backend, "--quiet"];
    const run = (...flags: string[]) => {
      const r = dlc(["train", file, ...common, ...flags]);
      t.is(r.status, 0, r.stderr);
    };
    run("--epochs", "4", "--save", join(dir, "whole.st"));
    run("--epochs", "2", "--save", join(dir, "part.st"));
    const r = dlc(["train", file, "--data", "data/iris.csv", "--backend", backend, "--quiet", "--resume", join(dir, "part.st"), "--epochs", "2", "--save", join(dir, "resumed.st")]);
    t.is(r.status, 0, r.stderr);
    const whole = loadCheckpoint(join(dir, "whole.st")).tensors;
    const resumed = loadCheckpoint(join(dir, "resumed.st")).tensors;
    t.deepEqual([...resumed.keys()].sort(), [...whole.keys()].sort());
    for (const [k, v] of whole) t.deepEqual([...resumed.get(k)!.data], [...v.data], k);
    const part = loadCheckpoint(join(dir, "part.st")).tensors;
    t.notDeepEqual([...part.get("bn1.variance")!.data], [...whole.get("bn1.variance")!.data], "the running variance kept moving");
  });
}
