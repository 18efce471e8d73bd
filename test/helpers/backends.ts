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
import { WebGpuBackend, type WebGpuBackendOptions } from "../../runtime/webgpu/backend.js";
import { GpuExecutable } from "../../runtime/webgpu/executable.js";
import { entryOf } from "../../runtime/program/model.js";
import type { Random } from "../../runtime/random.js";
import { gpu } from "./gpu.js";
import { relativeError, sample } from "./gradcheck.js";
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

/** A training model on WebGPU (with `options`' kernels) and on the CPU, both loaded with the same seeded initial values. */
export async function bothBackends(t: ExecutionContext, model: ModelProgram, seed = 1, options: WebGpuBackendOptions = {}): Promise<{ onGpu: WebGpuBackend; onCpu: CpuBackend; values: Map<string, Float32Array> }> {
  const ctx = await gpu(t);
  // The shared test device outlives this backend: its dispose must not destroy it.
  const onGpu = await WebGpuBackend.create({ ...ctx, destroy: () => {} }, model, options);
  const onCpu = new CpuBackend(model);
  const values = new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, seed, p.name)]));
  await onGpu.load(values);
  await onCpu.load(values);
  return { onGpu, onCpu, values };
}

/** Parameters within 1e-4 and optimizer state within 5e-4 (Adam's v sums squared gradients: twice the relative spread). */
export const STEP_TOLERANCE = (name: string) => (name.startsWith("opt/") ? 5e-4 : 1e-4);

/**
 * Tolerances of a model's weights after a few steps: STEP_TOLERANCE, or with
 * batch norm 1e-3 for parameters and 1e-2 for optimizer state (batch norm
 * makes the gradient of what it normalizes cancel to near rounding level, and
 * Adam's first step, lr * g / |g|, moves such an element by a full lr either way).
 */
export function modelTolerance(model: ModelProgram): (name: string) => number {
  return normalized(model) ? (name) => (name.startsWith("opt/") ? 1e-2 : 1e-3) : STEP_TOLERANCE;
}

/** The relative tolerance of a step's loss: 1e-4, or 1e-3 with batch norm (whose steps move by the same cancellation). */
export function lossTolerance(model: ModelProgram): number {
  return normalized(model) ? 1e-3 : 1e-4;
}

/**
 * How the step comparisons train a model: lr 0.01 on stepInputs' batches, but
 * with batch norm lr 1e-3 on pixels in 0..255. Nearly black images leave its
 * channels nearly constant, and Adam's first steps move an element whose
 * gradient cancels to rounding noise by about lr either way: there two sums
 * of the same terms in another order part by more than any tolerance.
 */
export function stepSettings(model: ModelProgram): { readonly lr: number; readonly pixels?: number } {
  return normalized(model) ? { lr: 1e-3, pixels: 255 } : { lr: 0.01 };
}

const normalized = (model: ModelProgram): boolean => model.params.some((p) => p.trainable === false);

/**
 * A batch for models/<file>'s loss: labels below each label's class count,
 * features in [0, 2], except the transformer's pixels, in 0..255 as in the
 * data: in [0, 2] (after its / 255) every image is nearly black, so that
 * attention compares nearly equal patches (and batch norm divides nearly
 * constant channels by their tiny spread), and their gradients are rounding
 * noise. (The MLP, fed 0..255, diverges at the tests' rate.)
 * `pixels` sets the features' upper bound instead.
 */
export function stepInputs(model: ModelProgram, file: string, rng: Random, batch: number, pixels?: number): Map<string, NDArray> {
  const inputs = new Map<string, NDArray>();
  for (const i of entryOf(model, "loss")!.inputs) {
    const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
    const n = shape.reduce((a, b) => a * b, 1);
    const hi = pixels ?? (file === "transformer.ts" ? 255 : 2);
    inputs.set(i.name, i.dtype === "i32" ? { shape, data: Int32Array.from({ length: n }, () => rng.int(i.classes!)) } : { shape, data: Float32Array.from(sample(rng, shape, { lo: 0, hi })) });
  }
  return inputs;
}

/** Every parameter and state tensor on WebGPU against the CPU's, normwise. */
export async function sameWeights(t: ExecutionContext, onGpu: Backend, onCpu: Backend, tolerance: (name: string) => number = STEP_TOLERANCE): Promise<void> {
  const [g, c] = [await onGpu.read(), await onCpu.read()];
  for (const [name, v] of c) {
    const tol = tolerance(name);
    const err = relativeError(g.get(name)!, v);
    t.true(err <= tol, `${name}: relative error ${err.toExponential(2)} > ${tol}`);
  }
}
