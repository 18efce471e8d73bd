// dlc's side of the training benchmark: a model compiled, its backend
// created (WebGPU shaders compiled), and a runner that takes training steps on
// consecutive batches of real data, reading the loss back every `cadence`
// steps (1: every step, as TensorFlow.js and jax-js do; 25: as the CLI does on
// WebGPU), synchronized at the end of each run.

import { join } from "node:path";
import { buildModel } from "../../compiler/build.js";
import { CpuBackend } from "../../runtime/cpu/backend.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { initialize } from "../../runtime/init/init.js";
import type { ModelProgram } from "../../runtime/program/model.js";
import type { Backend } from "../../runtime/train/backend.js";
import { WebGpuBackend } from "../../runtime/webgpu/backend.js";
import type { GpuContext } from "../../runtime/webgpu/device.js";

export interface TrainingData {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly rows: number;
}

export interface DlcTraining {
  readonly compileSeconds: number;
  /** Backend creation (shader compilation on WebGPU) plus the first step, finished. */
  readonly firstStepSeconds: number;
  /** Steps taken per run(). */
  readonly stepsPerRun: number;
  /** Why the CPU backend runs on one thread although more were asked for. */
  readonly oneThread?: string;
  run(): Promise<void>;
  loss(): Promise<number>;
  dispose(): void;
}

/** Where dlc trains: WebGPU, the CPU in WebAssembly (on `threads` threads), or the JavaScript reference interpreter. */
export type DlcKind = "webgpu" | "cpu" | "cpu-js";

export async function dlcTraining(root: string, model: "mlp" | "cnn", kind: DlcKind, batch: number, data: TrainingData, ctx?: GpuContext, cadence = 1, threads = 1): Promise<DlcTraining> {
  const t0 = performance.now();
  const program: ModelProgram = buildModel(join(root, "models", `${model}.ts`), { training: true, webgpu: kind === "webgpu" });
  const compileSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  // The bench keeps one device for the whole run: the backend must not destroy it.
  const backend: Backend = kind === "webgpu" ? await WebGpuBackend.create({ ...ctx!, destroy: () => {} }, program) : new CpuBackend(program, kind === "cpu" ? { engine: "wasm", threads } : { engine: "js" });
  const oneThread = backend instanceof CpuBackend && backend.products.kind === "wasm" ? backend.products.engine.oneThread : undefined;
  await backend.load(new Map(program.params.map((p) => [p.name, initialize(p.init, p.shape, 0, p.name)])));
  const x = new Float32Array(batch * 784);
  const y = new Int32Array(batch);
  const inputs = new Map<string, NDArray>([
    ["pixels", { shape: [batch, 784], data: x }],
    ["label", { shape: [batch], data: y }],
  ]);
  let row = 0;
  let t = 0;
  let last = NaN;
  const step = async (wantLoss: boolean) => {
    if (row + batch > data.rows) row = 0;
    x.set(data.x.subarray(row * 784, (row + batch) * 784));
    y.set(data.y.subarray(row, row + batch));
    row += batch;
    const loss = await backend.step(inputs, 1e-3, ++t, wantLoss);
    if (loss !== undefined) last = loss;
  };
  await step(true);
  const firstStepSeconds = (performance.now() - t1) / 1000;
  const stepsPerRun = cadence;
  return {
    compileSeconds,
    firstStepSeconds,
    stepsPerRun,
    ...(oneThread ? { oneThread } : {}),
    // The last step of a run reads the loss back, which also waits for the device.
    async run() {
      for (let k = 1; k <= stepsPerRun; k++) await step(k === stepsPerRun);
    },
    async loss() {
      return last;
    },
    dispose() {
      if (kind !== "webgpu") backend.dispose();
    },
  };
}
