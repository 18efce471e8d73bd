// The training loop's view of the loss is the same on WebGPU as on the CPU,
// however rarely WebGPU reads it back (--loss-every 25, its default): an
// epoch's train_loss is the mean of every step's loss weighted by batch size,
// a NaN or infinity is named at the step where it first appeared, and the
// divergence warning fires at the same step.

import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import { batches, epochOrder } from "../../../runtime/data/batches.js";
import type { ModelProgram } from "../../../runtime/program/model.js";
import { entryOf } from "../../../runtime/program/model.js";
import type { Backend } from "../../../runtime/train/backend.js";
import { allRows } from "../../../runtime/train/data.js";
import { loadFor } from "../../../runtime/train/load.js";
import { DivergedError, stepsPerEpoch, trainEpochs, type DivergingEvent, type Split } from "../../../runtime/train/loop.js";
import { batchInputs } from "../../../runtime/train/metrics.js";
import { startSession } from "../../../runtime/train/session.js";
import { WebGpuBackend } from "../../../runtime/webgpu/backend.js";
import { closeGpu, gpu } from "../../helpers/gpu.js";
import { ROOT } from "../../helpers/paths.js";

test.after.always(closeGpu);

const BATCH = 16;
const SEED = 3;

async function backends(t: Parameters<typeof gpu>[0], model: ModelProgram): Promise<Record<"cpu" | "webgpu", Backend>> {
  const ctx = await gpu(t);
  return { cpu: new CpuBackend(model), webgpu: await WebGpuBackend.create({ ...ctx, destroy: () => {} }, model) };
}

async function irisSplit(model: ModelProgram): Promise<Split> {
  const ds = await loadFor(entryOf(model, "loss")!, join(ROOT, "data/iris.csv"));
  return { ds, rows: allRows(ds) };
}

/** The losses of the loop's steps, one at a time on the CPU, each read back; with each batch's size. */
async function cpuStepLosses(model: ModelProgram, split: Split, lr: number, epochs: number): Promise<{ losses: number[]; sizes: number[] }> {
  const backend = new CpuBackend(model);
  const session = await startSession(model, backend, { ...model.train!.config, seed: SEED });
  const names = entryOf(model, "loss")!.inputs.map((i) => i.name);
  const losses: number[] = [];
  const sizes: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const batch of batches(split.ds, epochOrder(split.rows, SEED, epoch), BATCH, false)) {
      losses.push((await backend.step(batchInputs(split.ds, batch, names), lr, losses.length + 1, true))!);
      sizes.push(batch.size);
    }
  }
  return { losses, sizes };
}

test.serial("an epoch's train_loss is the mean of all its steps' losses, on WebGPU (loss read back every 25 steps) as on the CPU", async (t) => {
  const model = buildModel(join(ROOT, "models/iris.ts"), { training: true, webgpu: true });
  const split = await irisSplit(model);
  const lr = 0.1; // iris trains with sgd at 0.1 and a constant schedule
  const { losses, sizes } = await cpuStepLosses(model, split, lr, 2);
  const perEpoch = stepsPerEpoch(split.rows.length, BATCH, false);
  const want = [0, 1].map((e) => {
    let sum = 0;
    let n = 0;
    for (let i = e * perEpoch; i < (e + 1) * perEpoch; i++) {
      sum += losses[i]! * sizes[i]!;
      n += sizes[i]!;
    }
    return sum / n;
  });
  const got: Record<string, number[]> = {};
  for (const [kind, backend] of Object.entries(await backends(t, model))) {
    const session = await startSession(model, backend, { ...model.train!.config, seed: SEED });
    const reports = await trainEpochs(session, split, undefined, { epochs: 2, batch: BATCH, dropLast: false, lr, lossEvery: 25 });
    got[kind] = reports.map((r) => r.trainLoss);
    backend.dispose();
  }
  t.log(`per-step mean ${want.join(", ")}; CPU ${got.cpu!.join(", ")}; WebGPU ${got.webgpu!.join(", ")}`);
  t.deepEqual(got.cpu, want, "the CPU's epoch loss is exactly the weighted mean of its per-step losses");
  for (let e = 0; e < 2; e++) t.true(Math.abs(got.webgpu![e]! - want[e]!) <= 1e-4 * Math.abs(want[e]!), `epoch ${e + 1}: ${got.webgpu![e]} on WebGPU, ${want[e]} on the CPU`);
});

test.serial("a loss that becomes infinite is named at the same step on WebGPU as on the CPU, after the same divergence warning", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "dlc-epoch-loss-"));
  const file = join(dir, "explode.ts");
  // y = x.w with |x|^2 ~ 30 to 100: at lr 0.1 each step multiplies the loss by about 400, until it overflows float32.
  writeFileSync(
    file,
    `import { type Tensor, param, matmul, mean, sgd } from "dlc";
export function loss(x: Tensor<["batch", 4]>, species: Tensor<["batch"], "i32">): Tensor<[]> {
  const y = matmul(x, param("w", [4, 1], "ones"));
  return mean(y * y);
}
export const train = { optimizer: sgd({ lr: 0.1 }), batch: ${BATCH}, epochs: 5 };
`,
  );
  const model = buildModel(file, { training: true, webgpu: true });
  const split = await irisSplit(model);
  const { losses } = await cpuStepLosses(model, split, 0.1, 5);
  const first = losses.findIndex((l) => !Number.isFinite(l)) + 1;
  t.true(first > 0, "the model diverges within 5 epochs");
  // Not a step WebGPU reads back (every 25th, or an epoch's last): only the device-side log can name it.
  const perEpoch = stepsPerEpoch(split.rows.length, BATCH, false);
  t.true(first % 25 !== 0 && first % perEpoch !== 0, `step ${first}`);
  for (const [kind, backend] of Object.entries(await backends(t, model))) {
    const session = await startSession(model, backend, { ...model.train!.config, seed: SEED });
    const warnings: DivergingEvent[] = [];
    const error = await t.throwsAsync(trainEpochs(session, split, undefined, { epochs: 5, batch: BATCH, dropLast: false, lr: 0.1, lossEvery: kind === "webgpu" ? 25 : 1 }, { onDiverging: (e) => warnings.push(e) }), {
      instanceOf: DivergedError,
    });
    t.is(error?.step, first, `${kind}: ${error?.message}`);
    t.is(error?.loss, Infinity);
    t.is(warnings.length, 1, kind);
    const warned = losses.findIndex((l) => Math.abs(l) > 1e4 * Math.max(Math.abs(losses[0]!), 1)) + 1;
    t.is(warnings[0]?.step, warned, `${kind}: the divergence warning`);
    backend.dispose();
  }
});
