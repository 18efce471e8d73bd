// Choosing a backend: the CPU (WebAssembly SIMD), the CPU reference
// interpreter in JavaScript (`cpu-js`), WebGPU, or auto: WebGPU on a hardware
// adapter, the CPU where there is no adapter, and where the only adapter is a
// software one (llvmpipe, lavapipe, SwiftShader: a CPU pretending to be a
// GPU), whichever trains the model faster, measured on a few steps.

import { CpuBackend } from "./cpu/backend.js";
import type { NDArray } from "./cpu/ndarray.js";
import { entryOf, type ModelProgram } from "./program/model.js";
import type { Backend } from "./train/backend.js";
import type { BackendProfiling } from "./profile/recorder.js";
import { WebGpuBackend, type WebGpuBackendOptions } from "./webgpu/backend.js";
import { noAdapter, openDevice, webgpuMissing, type GpuContext } from "./webgpu/device.js";
import { GpuError } from "./webgpu/executable.js";
import { prepareWorkers } from "./wasm/workers.js";
import type { KernelChoice } from "./webgpu/kernel-family.js";

export type BackendChoice = "cpu" | "cpu-js" | "webgpu" | "auto";

export interface ChosenBackend {
  readonly backend: Backend;
  /** Why this one, for people: "asked for", "no WebGPU adapter", or the measurement. */
  readonly reason: string;
}

/** Steps timed on each backend when auto measures (after one untimed step that compiles the plan). */
const MEASURED_STEPS = 3;

export interface BackendOptions {
  /** auto on a software adapter measures training steps at this batch size (default: the model's). */
  readonly batch?: number;
  /** Threads of the CPU backend's products (default 1). */
  readonly threads?: number;
  /** Time every kernel call of the training step (dlc profile): on WebGPU by timestamp queries where allowed and available, else per dispatch. */
  readonly profile?: BackendProfiling;
  /** WebGPU's kernel family (default auto: the adapter's; see webgpu/kernel-family.ts). */
  readonly kernels?: KernelChoice;
}

export async function createBackend(model: ModelProgram, choice: BackendChoice = "auto", options: BackendOptions = {}): Promise<Backend> {
  return (await chooseBackend(model, choice, options)).backend;
}

/** The backend for `choice`, and why. */
export async function chooseBackend(model: ModelProgram, choice: BackendChoice = "auto", options: BackendOptions = {}): Promise<ChosenBackend> {
  const onStep = options.profile ? { onStep: options.profile.onStep } : {};
  const threads = options.threads ?? 1;
  const cpuBackend = async () => {
    // A browser's workers start only while this thread is free: start them before the backend blocks on them.
    await prepareWorkers(threads - 1);
    return new CpuBackend(model, { threads, ...onStep });
  };
  if (choice === "cpu") return { backend: await cpuBackend(), reason: "asked for" };
  if (choice === "cpu-js") return { backend: new CpuBackend(model, { engine: "js", ...onStep }), reason: "asked for" };
  const ctx = await openDevice({ timestampQuery: options.profile?.timestampQuery === true });
  if (!ctx) {
    const missing = webgpuMissing();
    if (choice === "auto") return { backend: await cpuBackend(), reason: missing?.reason ?? "no WebGPU adapter" };
    throw new GpuError(`${missing?.message ?? noAdapter()}; or use the CPU backend`);
  }
  const profiling = options.profile?.gpu(ctx.timestampQuery ? "timestamp-query" : "per-dispatch");
  const gpu = await onDevice(ctx, model, { ...(profiling ? { profiling } : {}), ...(options.kernels ? { kernels: options.kernels } : {}) });
  if (choice === "webgpu") return { backend: gpu, reason: "asked for" };
  const size = options.batch ?? model.train?.config.batch;
  if (!ctx.software || !model.train || size === undefined) return { backend: gpu, reason: ctx.software ? "a software adapter, nothing to measure" : "a hardware adapter" };
  const cpu = await cpuBackend();
  try {
    const [onCpu, onGpu] = [await stepsPerSecond(cpu, model, size), await stepsPerSecond(gpu, model, size)];
    const measured = `measured at batch ${size}: CPU ${onCpu.toFixed(1)} steps/s, WebGPU (${ctx.description}) ${onGpu.toFixed(1)} steps/s`;
    const [keep, drop] = onCpu >= onGpu ? [cpu, gpu] : [gpu, cpu];
    drop.dispose();
    return { backend: keep, reason: measured };
  } catch (e) {
    cpu.dispose();
    gpu.dispose();
    throw e;
  }
}

async function onDevice(ctx: GpuContext, model: ModelProgram, options: WebGpuBackendOptions): Promise<Backend> {
  try {
    return await WebGpuBackend.create(ctx, model, options);
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}

/** A batch of the loss's inputs for timing (a step's time does not depend on the values): features spread over [0, 1), labels 0. */
export function syntheticBatch(model: ModelProgram, batch: number): Map<string, NDArray> {
  const inputs = new Map<string, NDArray>();
  for (const i of entryOf(model, "loss")!.inputs) {
    const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
    const n = shape.reduce((a, b) => a * b, 1);
    inputs.set(i.name, { shape, data: i.dtype === "i32" ? new Int32Array(n) : Float32Array.from({ length: n }, (_, k) => (k % 255) / 255) });
  }
  return inputs;
}

/**
 * Training steps per second of `backend` on a synthetic batch (the speed does
 * not depend on the values), the last step reading its loss back. Leaves the
 * backend as it was made: parameters, optimizer state and losses zero.
 */
async function stepsPerSecond(backend: Backend, model: ModelProgram, batch: number): Promise<number> {
  const inputs = syntheticBatch(model, batch);
  await backend.step(inputs, 0, 1, true);
  const started = performance.now();
  for (let t = 1; t <= MEASURED_STEPS; t++) await backend.step(inputs, 0, 1 + t, t === MEASURED_STEPS);
  const seconds = (performance.now() - started) / 1000;
  const zeros = [...model.params.map((p) => [p.name, p.shape] as const), ...(model.train?.state ?? []).map((s) => [s.name, s.shape] as const)];
  await backend.load(new Map(zeros.map(([name, shape]) => [name, new Float32Array(shape.reduce((a, b) => a * b, 1))])));
  await backend.takeLosses();
  return MEASURED_STEPS / seconds;
}
