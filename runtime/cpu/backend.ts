// The CPU backend: parameters and optimizer state in Float32Arrays, every
// program run in float32 on one WebAssembly engine and its memory (SIMD
// kernels generated per plan, products on the SIMD GEMM), or, as the
// reference (`cpu-js`, or a host without WebAssembly SIMD), by the JavaScript
// interpreter.

import { inputsWith, stepKey, lossOutput, updatedBy, type Hyper } from "../program/abi.js";
import { entryOf, type ModelProgram } from "../program/model.js";
import type { Backend } from "../train/backend.js";
import { CpuExecutable, type CpuExecutableOptions } from "./executable.js";
import type { NDArray } from "./ndarray.js";
import { wasmFeatures } from "../wasm/features.js";
import { createProducts, type GemmChoice, type Products, type WasmEngine } from "./wasm/engine.js";

function threadsText(engine: WasmEngine): string {
  const n = engine.gemm.threads;
  return engine.oneThread ? `1 thread: ${engine.oneThread}` : `${n} thread${n === 1 ? "" : "s"}`;
}

export interface CpuBackendOptions {
  /** What runs the programs: WebAssembly SIMD where the host has it (the default), or the JavaScript interpreter. */
  readonly engine?: GemmChoice;
  /** Threads of the products (1 by default): this one and workers over a shared memory. */
  readonly threads?: number;
  /** Called with every step's timing, of every entry point (a profile). */
  readonly onStep?: CpuExecutableOptions["onStep"];
}

export class CpuBackend implements Backend {
  readonly kind = "cpu";
  readonly description: string;
  /** What runs the products of every entry point. */
  readonly products: Products;
  /** Parameters and optimizer state: arrays of their own, or (resident) views of the heap where the last step left them. */
  private readonly values = new Map<string, Float32Array>();
  /** Whether values may stay in the heap: its memory is shared, so growing it never detaches their views. */
  private readonly resident: boolean;
  private readonly executables = new Map<string, CpuExecutable>();
  private readonly scalars: Record<Hyper, Float32Array> = { lr: new Float32Array(1), step: new Float32Array(1) };
  /** The loss of each step since the last takeLosses(). */
  private losses: number[] = [];

  constructor(
    private readonly model: ModelProgram,
    private readonly options: CpuBackendOptions = {},
  ) {
    this.products = createProducts(options.engine, wasmFeatures(), options.threads ?? 1);
    this.resident = this.products.kind === "wasm" && typeof SharedArrayBuffer !== "undefined" && this.products.engine.heap.memory.buffer instanceof SharedArrayBuffer;
    this.description = this.products.kind === "wasm" ? `CPU (WebAssembly SIMD128, float32, ${threadsText(this.products.engine)})` : `CPU reference interpreter (JavaScript, float32: ${this.products.reason})`;
    for (const p of model.params) this.values.set(p.name, new Float32Array(p.shape.reduce((a, b) => a * b, 1)));
    for (const s of model.train?.state ?? []) this.values.set(s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
  }

  async load(values: ReadonlyMap<string, Float32Array>): Promise<void> {
    for (const [name, v] of values) {
      const mine = this.values.get(name);
      if (!mine) throw new Error(`the model has no parameter or state '${name}'`);
      if (mine.length !== v.length) throw new Error(`'${name}' has ${v.length} values, the model expects ${mine.length}`);
      mine.set(v);
    }
  }

  async read(): Promise<Map<string, Float32Array>> {
    return new Map([...this.values].map(([k, v]) => [k, Float32Array.from(v)]));
  }

  private params(): Map<string, NDArray> {
    const spec = new Map(this.model.params.map((p) => [p.name, p.shape]));
    return new Map([...spec].map(([name, shape]) => [name, { shape, data: this.values.get(name)! }]));
  }

  private executable(name: string): CpuExecutable {
    let exe = this.executables.get(name);
    if (!exe) {
      const entry = name === "train" ? this.model.train?.step : entryOf(this.model, name);
      if (!entry) throw new Error(`the model has no entry point '${name}'`);
      // The training step writes new parameters and state over the old ones, which then stay in the heap.
      const donate = name === "train" && this.model.train ? new Map(this.model.train.abi.outputs.flatMap((b) => (updatedBy(b) !== undefined ? [[b.name, updatedBy(b)!] as const] : []))) : undefined;
      this.executables.set(name, (exe = new CpuExecutable(entry.cpu, "f32", { products: this.products, ...(this.options.onStep ? { onStep: this.options.onStep } : {}), ...(donate ? { donate } : {}) })));
    }
    return exe;
  }

  async step(inputs: ReadonlyMap<string, NDArray>, lr: number, t: number, wantLoss: boolean, seed = 0): Promise<number | undefined> {
    const train = this.model.train;
    if (!train) throw new Error("the model was compiled without a training step");
    this.scalars.lr[0] = lr;
    this.scalars.step[0] = t;
    const feeds = new Map(inputs);
    for (const b of inputsWith(train.abi, "hyper")) feeds.set(b.name, { shape: [], data: this.scalars[b.hyper] });
    for (const b of inputsWith(train.abi, "key")) feeds.set(b.name, { shape: [2], data: stepKey(seed, t) });
    const stateShape = new Map(train.state.map((s) => [s.name, s.shape]));
    for (const b of inputsWith(train.abi, "state")) feeds.set(b.name, { shape: stateShape.get(b.name)!, data: this.values.get(b.name)! });
    const exe = this.executable("train");
    await exe.prepare(feeds);
    const out = exe.run(feeds, this.params());
    for (const b of train.abi.outputs) {
      const target = updatedBy(b);
      if (target === undefined) continue;
      const data = out.get(b.name)!.data as Float32Array;
      // In a shared memory, whose views never detach, the values stay where
      // the step wrote them (over the old ones, where donated): the next step
      // finds them in place and nothing is copied. Elsewhere they are copied out.
      if (this.resident) this.values.set(target, data);
      else this.values.get(target)!.set(data);
    }
    const loss = out.get(lossOutput(train.abi))!.data[0]!;
    this.losses.push(loss);
    return wantLoss ? loss : undefined;
  }

  async takeLosses(): Promise<Float32Array> {
    const taken = Float32Array.from(this.losses);
    this.losses = [];
    return taken;
  }

  async run(entry: string, inputs: ReadonlyMap<string, NDArray>): Promise<Map<string, NDArray>> {
    // Plans compile asynchronously (a browser's main thread allows nothing else for large modules).
    const exe = this.executable(entry);
    await exe.prepare(inputs);
    return exe.run(inputs, this.params());
  }

  dispose(): void {
    this.executables.clear();
    if (this.products.kind === "wasm") this.products.engine.gemm.dispose();
  }
}
