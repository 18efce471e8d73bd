// One graph run every way dlc runs graphs: the reference evaluator (float64,
// unfused), the CPU interpreter (float32, fused), and WebGPU fused and
// unfused. Tests hold each to one independent reference (TF.js, a formula).

import type { ExecutionContext } from "ava";
import { lowerGpu } from "../../compiler/codegen/wgsl/program.js";
import type { Graph } from "../../compiler/ir/node.js";
import { CpuBackend } from "../../runtime/cpu/backend.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { initialize } from "../../runtime/init/init.js";
import type { ModelProgram } from "../../runtime/program/model.js";
import type { Backend } from "../../runtime/train/backend.js";
import { WebGpuBackend } from "../../runtime/webgpu/backend.js";
import { GpuExecutable } from "../../runtime/webgpu/executable.js";
import { gpu } from "./gpu.js";
import { relativeError } from "./gradcheck.js";
import { lowerAndRun } from "./run.js";

export interface BackendRun {
  readonly what: string;
  readonly outputs: ReadonlyMap<string, NDArray>;
  /** float32 on a GPU sums in another order than on the CPU: its tolerance is this many times the CPU's. */
  readonly slack: number;
}

/** `g` on every backend (callers close the GPU with test.after.always(closeGpu)). */
export async function everyBackend(t: ExecutionContext, g: Graph, feeds: ReadonlyMap<string, NDArray>): Promise<BackendRun[]> {
  const f32 = new Map([...feeds].map(([name, a]) => [name, a.data instanceof Int32Array ? a : { shape: a.shape, data: Float32Array.from(a.data) }]));
  const runs: BackendRun[] = [
    { what: "CPU float64", outputs: lowerAndRun(g, feeds), slack: 1 },
    { what: "CPU float32 fused", outputs: lowerAndRun(g, feeds, new Map(), { precision: "f32", fusion: true }), slack: 1 },
  ];
  const ctx = await gpu(t);
  for (const fusion of [true, false]) {
    const exe = await GpuExecutable.create(ctx, lowerGpu(g, { fusion }));
    const outputs = await exe.run(f32, new Map());
    // Copies: the executable's buffers are reused by the next run.
    runs.push({ what: `WebGPU ${fusion ? "fused" : "unfused"}`, outputs: new Map([...outputs].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }])), slack: 2 });
  }
  return runs;
}

/** A training model on WebGPU and on the CPU, both loaded with the same seeded initial values. */
export async function bothBackends(t: ExecutionContext, model: ModelProgram, seed = 1): Promise<{ onGpu: WebGpuBackend; onCpu: CpuBackend; values: Map<string, Float32Array> }> {
  const ctx = await gpu(t);
  // The shared test device outlives this backend: its dispose must not destroy it.
  const onGpu = await WebGpuBackend.create({ ...ctx, destroy: () => {} }, model);
  const onCpu = new CpuBackend(model);
  const values = new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, seed, p.name)]));
  await onGpu.load(values);
  await onCpu.load(values);
  return { onGpu, onCpu, values };
}

/** Parameters within 1e-4 and optimizer state within 5e-4 (Adam's v sums squared gradients: twice the relative spread). */
export const STEP_TOLERANCE = (name: string) => (name.startsWith("opt/") ? 5e-4 : 1e-4);

/** Every parameter and state tensor on WebGPU against the CPU's, normwise. */
export async function sameWeights(t: ExecutionContext, onGpu: Backend, onCpu: Backend, tolerance: (name: string) => number = STEP_TOLERANCE): Promise<void> {
  const [g, c] = [await onGpu.read(), await onCpu.read()];
  for (const [name, v] of c) {
    const tol = tolerance(name);
    const err = relativeError(g.get(name)!, v);
    t.true(err <= tol, `${name}: relative error ${err.toExponential(2)} > ${tol}`);
  }
}
