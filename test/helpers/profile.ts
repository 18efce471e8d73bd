// What the profile tests share: the training run a profile must not change,
// run without one, and the checks every profile passes whatever ran it.

import type { ExecutionContext } from "ava";
import { batches } from "../../runtime/data/batches.js";
import type { Dataset } from "../../runtime/data/types.js";
import { learningRate } from "../../runtime/optim/schedule.js";
import { flops } from "../../runtime/program/cost.js";
import { entryOf, type ModelProgram } from "../../runtime/program/model.js";
import type { GraphProgram } from "../../runtime/program/program.js";
import type { Profile } from "../../runtime/profile/profile.js";
import { summarize } from "../../runtime/profile/summary.js";
import type { Backend } from "../../runtime/train/backend.js";
import { batchInputs } from "../../runtime/train/metrics.js";
import { startSession } from "../../runtime/train/session.js";

/**
 * The parameters after `steps` training steps on `backend`, unprofiled: the
 * model's initial weights for `seed`, batches of rows in file order, the
 * model's learning rate and schedule over those steps (no normalization:
 * the models tested have none).
 */
export async function unprofiledRun(model: ModelProgram, backend: Backend, data: Dataset, o: { batch: number; steps: number; seed: number }): Promise<Map<string, Float32Array>> {
  const config = { ...model.train!.config, batch: o.batch, seed: o.seed };
  await startSession(model, backend, config);
  const order = Uint32Array.from({ length: o.steps * o.batch }, (_, i) => i % data.rows);
  const names = entryOf(model, "loss")!.inputs.map((i) => i.name);
  let t = 0;
  for (const b of batches(data, order, o.batch, true)) {
    await backend.step(batchInputs(data, b, names), learningRate(config.optimizer.schedule, config.optimizer.lr, t, o.steps), t + 1, false, o.seed);
    t++;
  }
  return backend.read();
}

/** Every profiled step called every kernel once; the kernels' FLOPs add up to the step's (cost.ts); the shares to 1. */
export function checkTotals(t: ExecutionContext, p: Profile, graph: GraphProgram, kernels: number, steps: number): void {
  t.is(p.steps.length, steps);
  t.is(p.kernels.length, kernels);
  t.is(p.calls.length, kernels * steps);
  for (let s = 0; s < steps; s++) {
    const called = p.calls.filter((c) => c.step === s).map((c) => c.kernel);
    t.deepEqual([...called].sort((a, b) => a - b), [...p.kernels.keys()], `step ${s} calls every kernel once`);
  }
  t.true(p.calls.every((c) => c.ms >= 0 && Number.isFinite(c.start)));
  t.is(p.flops, flops(graph, { batch: p.batch }));
  t.is(p.kernels.reduce((a, k) => a + k.flops, 0), p.flops);
  const s = summarize(p);
  t.true(Math.abs(s.kernels.reduce((a, r) => a + r.share, 0) - 1) < 1e-9);
  t.is(s.total.calls, kernels * steps);
  t.true(s.kernels.every((r, i) => i === 0 || s.kernels[i - 1]!.ms >= r.ms), "sorted by time");
  t.true(s.step_ms > 0);
}

/** Bit-for-bit equality of two sets of parameters and optimizer state. */
export function sameBits(t: ExecutionContext, a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  t.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, v] of a) t.deepEqual(new Uint32Array(v.buffer, v.byteOffset, v.length), new Uint32Array(b.get(name)!.buffer, b.get(name)!.byteOffset, v.length), name);
}

interface Event {
  name: string;
  cat?: string;
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

/**
 * A Chrome trace as Perfetto and chrome://tracing read it: an object with
 * `traceEvents`; complete events ("X") with a name, numeric ts and dur >= 0,
 * pid and tid; every kernel event inside a step event of its track.
 * Returns the steps and kernels, for counting.
 */
export function checkChromeTrace(t: ExecutionContext, json: string): { steps: Event[]; kernels: Event[] } {
  const trace = JSON.parse(json) as { traceEvents: Event[] };
  t.true(Array.isArray(trace.traceEvents));
  for (const e of trace.traceEvents) {
    t.is(typeof e.name, "string");
    t.true(e.ph === "X" || e.ph === "M", e.ph);
    t.true(Number.isInteger(e.pid) && Number.isInteger(e.tid));
    if (e.ph !== "X") continue;
    t.true(typeof e.ts === "number" && Number.isFinite(e.ts), `${e.name} ts`);
    t.true(typeof e.dur === "number" && e.dur >= 0, `${e.name} dur`);
  }
  const complete = trace.traceEvents.filter((e) => e.ph === "X");
  const steps = complete.filter((e) => e.cat === "step");
  const kernels = complete.filter((e) => e.cat === "kernel");
  t.is(steps.length + kernels.length, complete.length);
  for (const k of kernels) {
    const inside = steps.filter((s) => s.pid === k.pid && s.tid === k.tid && s.ts! <= k.ts! && k.ts! + k.dur! <= s.ts! + s.dur!);
    t.is(inside.length, 1, `${k.name} at ${k.ts} lies in one step`);
  }
  return { steps, kernels };
}
