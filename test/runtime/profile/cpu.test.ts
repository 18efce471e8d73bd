// A CPU profile of models/digits.ts's training step, on the WebAssembly
// engine (where row chains join steps into one run) and on the JavaScript
// interpreter: it covers every step of the program once per training step,
// its kernels' FLOPs add up to cost.ts's, a product's bytes are its
// operands' and result's, and timing changes no bit of the parameters.

import test from "ava";
import { buildModel } from "../../../compiler/build.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import { entryOf } from "../../../runtime/program/model.js";
import { profileTraining } from "../../../runtime/profile/profile.js";
import { loadFor } from "../../../runtime/train/load.js";
import { fromRoot } from "../../helpers/paths.js";
import { checkTotals, sameBits, unprofiledRun } from "../../helpers/profile.js";

const model = buildModel(fromRoot("models/digits.ts"), { training: true, webgpu: false });
const data = await loadFor(entryOf(model, "loss")!, fromRoot("data/digits.csv"));
const step = model.train!.step.cpu;
const settings = { batch: 24, steps: 3, warmup: 2, seed: 5 };

for (const [choice, engine] of [["cpu", "wasm"], ["cpu-js", "js"]] as const) {
  // Serial: runs on one data set share its batch buffers (batches.ts).
  test.serial(`${choice}: every step of the program runs once per training step; FLOPs, bytes and shares add up; no bit changes`, async (t) => {
    const { profile: p, session } = await profileTraining(model, data, { backend: choice, threads: 2, ...settings });
    const profiled = await session.backend.read();
    session.backend.dispose();
    t.is(p.backend, "cpu");
    t.is(p.method, "wall-clock");
    t.is(p.batch, 24);

    // The runs' nodes are the program's steps, each in exactly one run.
    const stepNodes = step.steps.filter((s) => s.kind !== "alias").map((s) => s.node);
    const runOf = stepNodes.map((n) => p.kernels.filter((k) => k.nodes.includes(n)).length);
    t.deepEqual(runOf, stepNodes.map(() => 1));
    const runs = engine === "js" ? stepNodes.length : p.kernels.length;
    t.true(runs <= stepNodes.length);
    if (engine === "wasm") t.true(p.kernels.some((k) => k.name.startsWith("rows[")), "row chains join steps");
    checkTotals(t, p, step.graph, runs, settings.steps);

    // The first layer's product, 24x64 by 64x128: its operands and result, in float32.
    const first = p.kernels.find((k) => k.name === "matmul 24x64x128");
    t.truthy(first, p.kernels.map((k) => k.name).join("; "));
    t.is(first!.bytes, 4 * (24 * 64 + 64 * 128 + 24 * 128));
    t.is(first!.flops, 2 * 24 * 64 * 128);

    const reference = new CpuBackend(model, { engine, threads: 2 });
    const unprofiled = await unprofiledRun(model, reference, data, { batch: settings.batch, steps: settings.warmup + settings.steps, seed: settings.seed });
    reference.dispose();
    sameBits(t, profiled, unprofiled);
  });
}
