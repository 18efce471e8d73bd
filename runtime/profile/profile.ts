// A per-kernel profile of training: a few optimizer steps after a warm-up,
// every kernel call of each timed (recorder.ts), each step's wall time from
// its start until its results were back. The steps are ordinary training
// steps (the same learning rates, step numbers and seed as `dlc train`'s
// first steps on batches in file order), and timing them changes no result.

import { chooseBackend, type BackendChoice } from "../backends.js";
import type { KernelChoice } from "../webgpu/kernel-family.js";
import type { NDArray } from "../cpu/ndarray.js";
import { batches } from "../data/batches.js";
import type { Dataset } from "../data/types.js";
import { learningRate } from "../optim/schedule.js";
import { flops } from "../program/cost.js";
import type { DimEnv } from "../program/dim.js";
import { entryOf, type ModelProgram } from "../program/model.js";
import type { BackendKind } from "../train/backend.js";
import { fitNorm, normalize, allRows } from "../train/data.js";
import { batchInputs } from "../train/metrics.js";
import { startSession, type Session } from "../train/session.js";
import { kernelFlops, type KernelCost } from "./kernels.js";
import { KernelRecorder, type KernelCall, type StepSpan, type TimingMethod } from "./recorder.js";

export interface ProfiledKernel extends KernelCost {
  /** FLOPs of one call (kernels.ts: a value computed in several kernels counts in the first). */
  readonly flops: number;
}

export interface Profile {
  readonly backend: BackendKind;
  /** What it ran on, for people. */
  readonly device: string;
  readonly method: TimingMethod;
  readonly batch: number;
  readonly warmup: number;
  /** FLOPs of one training step (cost.ts): what the kernels' FLOPs add up to. */
  readonly flops: number;
  /** Every kernel of the step, in the order they first ran. */
  readonly kernels: readonly ProfiledKernel[];
  /** Every call, in order. */
  readonly calls: readonly KernelCall[];
  /** The profiled steps. */
  readonly steps: readonly StepSpan[];
}

export interface StepOptions {
  /** Steps timed, after `warmup` untimed ones (which plan, compile and warm caches). */
  readonly steps: number;
  readonly warmup: number;
  /** The base learning rate (the schedule's), and the steps the schedule spans (default: warm-up and steps). */
  readonly lr: number;
  readonly horizon?: number;
}

/** Runs warm-up and profiled training steps on `session`, whose backend reports to `recorder`; `feeds(i)` is step i's batch (from 0). */
export async function profileSteps(session: Session, recorder: KernelRecorder, feeds: (i: number) => ReadonlyMap<string, NDArray>, o: StepOptions): Promise<Profile> {
  const { backend, config, model } = session;
  const train = model.train;
  if (!train) throw new Error("the model was compiled without a training step");
  const total = o.horizon ?? o.warmup + o.steps;
  let env: DimEnv = {};
  let batch = 0;
  for (let i = 0; i < o.warmup + o.steps; i++) {
    if (i === o.warmup) recorder.start();
    const inputs = feeds(i);
    env = envOf(model, inputs);
    batch = inputs.values().next().value?.shape[0] ?? 1;
    const lr = learningRate(config.optimizer.schedule, o.lr, session.step, total);
    const start = performance.now();
    // Reading the loss back makes the step's time cover its work on every backend.
    await backend.step(inputs, lr, session.step + 1, true, config.seed);
    recorder.endStep(start, performance.now() - start);
    session.step++;
  }
  await backend.takeLosses();
  const graph = backend.kind === "cpu" ? train.step.cpu.graph : train.step.gpu!.graph;
  const perCall = kernelFlops(graph, env, recorder.kernels);
  return {
    backend: backend.kind,
    device: backend.description,
    method: backend.kind === "cpu" ? "wall-clock" : recorder.gpuMethod!,
    batch,
    warmup: o.warmup,
    flops: flops(graph, env),
    kernels: recorder.kernels.map((k, i) => ({ ...k, flops: perCall[i]! })),
    calls: recorder.calls,
    steps: recorder.steps,
  };
}

/** The symbolic sizes (the batch) of a batch of the loss's inputs. */
function envOf(model: ModelProgram, inputs: ReadonlyMap<string, NDArray>): DimEnv {
  const env: Record<string, number> = {};
  for (const spec of entryOf(model, "loss")!.inputs) spec.shape.forEach((d, j) => typeof d === "string" && (env[d] = inputs.get(spec.name)!.shape[j]!));
  return env;
}

export interface ProfileOptions {
  readonly backend?: BackendChoice;
  /** Profiled steps (default 10) after warm-up steps (default 3). */
  readonly steps?: number;
  readonly warmup?: number;
  /** Default: the model's, or every row when the data has fewer. */
  readonly batch?: number;
  readonly threads?: number;
  /** Default: the model's. */
  readonly seed?: number;
  /** false: time WebGPU per dispatch even where the adapter has timestamp queries. */
  readonly timestampQuery?: boolean;
  /** WebGPU's kernel family (default auto: the adapter's). */
  readonly kernels?: KernelChoice;
}

export interface ProfiledRun {
  readonly profile: Profile;
  /** The session the steps ran in (its backend is the caller's to dispose). */
  readonly session: Session;
  /** Why this backend (backends.ts). */
  readonly reason: string;
}

/**
 * Profiles training `model` on `data`: initial weights from the seed, the
 * model's normalization fit on every row, batches of rows in file order
 * (wrapping around), the model's learning rate and schedule.
 */
export async function profileTraining(model: ModelProgram, data: Dataset, o: ProfileOptions = {}): Promise<ProfiledRun> {
  const train = model.train;
  if (!train) throw new Error("the model was compiled without a training step");
  const steps = o.steps ?? 10;
  const warmup = o.warmup ?? 3;
  const batch = Math.min(o.batch ?? train.config.batch, data.rows);
  const config = { ...train.config, batch, seed: o.seed ?? train.config.seed };
  const recorder = new KernelRecorder(train.step, o.timestampQuery ?? true);
  const { backend, reason } = await chooseBackend(model, o.backend ?? "auto", { batch, threads: o.threads ?? 1, profile: recorder, ...(o.kernels ? { kernels: o.kernels } : {}) });
  try {
    const session = await startSession(model, backend, config);
    const ds = normalize(data, fitNorm(config.normalize ?? "none", data, allRows(data)));
    const order = Uint32Array.from({ length: (warmup + steps) * batch }, (_, i) => i % data.rows);
    const drawn = batches(ds, order, batch, true);
    const names = entryOf(model, "loss")!.inputs.map((i) => i.name);
    const profile = await profileSteps(session, recorder, () => batchInputs(ds, drawn.next().value!, names), { steps, warmup, lr: train.config.optimizer.lr });
    return { profile, session, reason };
  } catch (e) {
    backend.dispose();
    throw e;
  }
}
