// A WebGPU profile of models/digits.ts's training step, run for real (on
// lavapipe where there is no GPU; without an adapter these tests fail, they
// never skip): by timestamp queries, which only a profile asks the device
// for, and by the fallback that submits and awaits each dispatch, forced.
// Either way every kernel of the program runs once per step, the FLOPs add
// up to cost.ts's, and the parameters are those of an unprofiled run.

import test from "ava";
import { buildModel } from "../../../compiler/build.js";
import { entryOf } from "../../../runtime/program/model.js";
import { profileTraining } from "../../../runtime/profile/profile.js";
import { loadFor } from "../../../runtime/train/load.js";
import { WebGpuBackend } from "../../../runtime/webgpu/backend.js";
import { openDevice } from "../../../runtime/webgpu/device.js";
import { fromRoot } from "../../helpers/paths.js";
import { checkTotals, sameBits, unprofiledRun } from "../../helpers/profile.js";

const model = buildModel(fromRoot("models/digits.ts"), { training: true, webgpu: true });
const data = await loadFor(entryOf(model, "loss")!, fromRoot("data/digits.csv"));
const step = model.train!.step.gpu!;
const settings = { batch: 24, steps: 3, warmup: 1, seed: 5 };

for (const method of ["timestamp-query", "per-dispatch"] as const) {
  // Serial: one device at a time, and runs on one data set share its batch buffers.
  test.serial(`${method}: every kernel once per step, FLOPs and shares add up, the parameters of an unprofiled run`, async (t) => {
    const { profile: p, session } = await profileTraining(model, data, { backend: "webgpu", timestampQuery: method === "timestamp-query", ...settings });
    const profiled = await session.backend.read();
    session.backend.dispose();
    t.is(p.backend, "webgpu");
    t.is(p.method, method);
    checkTotals(t, p, step.graph, step.kernels.length, settings.steps);
    // Each step's kernels ran within its wall time.
    p.steps.forEach((s, i) => {
      const busy = p.calls.filter((c) => c.step === i).reduce((a, c) => a + c.ms, 0);
      t.true(busy <= s.ms, `step ${i}: kernels ${busy} ms, wall ${s.ms} ms`);
    });

    const ctx = await openDevice();
    if (!ctx) return t.fail("no WebGPU adapter: run ./scripts/install-webgpu-cpu.sh (as root) on a machine without a GPU");
    t.false(ctx.timestampQuery, "timestamp-query is asked for only by profiles");
    const reference = await WebGpuBackend.create(ctx, model);
    const unprofiled = await unprofiledRun(model, reference, data, { batch: settings.batch, steps: settings.warmup + settings.steps, seed: settings.seed });
    reference.dispose();
    sameBits(t, profiled, unprofiled);
  });
}
