// The WebGPU backend: parameters and optimizer state stay on the GPU for the
// whole run, in two buffers each. A training step reads one and writes the
// other (the update kernels never write what another kernel of the same step
// still reads), and the next step swaps them, so both sets of bind groups are
// made once. A step is one command buffer and one submit; the loss is read
// back only when asked for. Every step also copies its loss into a device-side
// log (chunks of LOSS_CHUNK floats) that takeLosses() reads in one go, once per
// epoch: the epoch's mean covers every step, and a NaN is placed at its step.
// A profiled backend (`profiling`) times every dispatch of each training step
// (timing.ts) and reports them once the step has run.

import type { NDArray } from "../cpu/ndarray.js";
import { bindDims } from "../cpu/bind.js";
import { inputsWith, stepKey, lossOutput, updatedBy, type Hyper } from "../program/abi.js";
import { entryOf, type EntryProgram, type ModelProgram } from "../program/model.js";
import type { Backend } from "../train/backend.js";
import type { GpuContext } from "./device.js";
import { GpuError, GpuExecutable } from "./executable.js";
import { DispatchTimestamps, type DispatchTiming, type GpuProfiling } from "./timing.js";
import { familyFor, selectKernels, type KernelChoice } from "./kernel-family.js";
import type { KernelFamily } from "../program/gpu.js";

/** Steps per buffer of the device-side loss log. */
const LOSS_CHUNK = 1024;

export interface WebGpuBackendOptions {
  /** Time every dispatch of each training step and report them (dlc profile). "timestamp-query" needs a device that has the feature. */
  readonly profiling?: GpuProfiling;
  /** The kernel family: auto (the adapter's), software or hardware (kernel-family.ts). */
  readonly kernels?: KernelChoice;
}

interface Slot {
  readonly name: string;
  readonly bytes: number;
  readonly buffers: [GPUBuffer, GPUBuffer];
}

export class WebGpuBackend implements Backend {
  readonly kind = "webgpu";
  readonly description: string;
  /** The family of the contraction kernels it runs. */
  readonly kernels: KernelFamily;
  private readonly slots = new Map<string, Slot>();
  private readonly executables = new Map<string, GpuExecutable>();
  private parity = 0;
  private readonly hyper: Record<Hyper, Float32Array> = { lr: new Float32Array(1), step: new Float32Array(1) };
  private lossStaging: GPUBuffer | undefined;
  /** The device-side loss log: step i's loss is float i % LOSS_CHUNK of chunk i / LOSS_CHUNK. */
  private readonly lossChunks: GPUBuffer[] = [];
  private lossCount = 0;
  /** Set when the device is lost or reports an error outside an error scope: the next call throws it. */
  private failure: string | undefined;
  private disposed = false;
  /** The training step's timestamps, when profiled by timestamp queries. */
  private timestamps: DispatchTimestamps | undefined;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly model: ModelProgram,
    private readonly options: WebGpuBackendOptions,
  ) {
    if (options.profiling?.method === "timestamp-query" && !ctx.timestampQuery) throw new GpuError("internal: timestamp queries asked for on a device without timestamp-query");
    this.kernels = familyFor(ctx.software, options.kernels);
    // The family is named where it is not the adapter's own.
    this.description = this.kernels === familyFor(ctx.software) ? ctx.description : `${ctx.description}, ${this.kernels} kernels`;
    void ctx.device.lost.then((info) => {
      if (!this.disposed) this.failure = `the GPU device was lost (${info.reason ?? "unknown"}): ${info.message || "no message"}`;
    });
    ctx.device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.failure ??= `the GPU reported an error: ${ev.error.message}`;
    };
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const slot = (name: string, shape: readonly number[]) => {
      const bytes = Math.max(4, shape.reduce((a, b) => a * b, 1) * 4);
      const make = () => ctx.device.createBuffer({ size: bytes, usage });
      this.slots.set(name, { name, bytes, buffers: [make(), make()] });
    };
    for (const p of model.params) slot(p.name, p.shape);
    for (const s of model.train?.state ?? []) slot(s.name, s.shape);
  }

  static async create(ctx: GpuContext, model: ModelProgram, options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const b = new WebGpuBackend(ctx, model, options);
    // Compile every program now, so that shader errors surface before training starts.
    for (const e of [...model.entries, ...(model.train ? [model.train.step] : [])]) await b.executable(e);
    return b;
  }

  private async executable(entry: EntryProgram): Promise<GpuExecutable> {
    let exe = this.executables.get(entry.name);
    if (!exe) {
      if (!entry.gpu) throw new GpuError(`'${entry.name}' was compiled without a WebGPU program`);
      const program = selectKernels(entry.gpu, this.kernels, this.ctx.device.limits);
      this.executables.set(entry.name, (exe = await GpuExecutable.create(this.ctx, program)));
    }
    return exe;
  }

  private current(name: string): GPUBuffer {
    return this.slots.get(name)!.buffers[this.parity]!;
  }

  async load(values: ReadonlyMap<string, Float32Array>): Promise<void> {
    for (const [name, v] of values) {
      const slot = this.slots.get(name);
      if (!slot) throw new GpuError(`the model has no parameter or state '${name}'`);
      if (v.byteLength !== slot.bytes && !(v.length === 0 && slot.bytes === 4)) throw new GpuError(`'${name}' has ${v.length} values, the model expects ${slot.bytes / 4}`);
      this.ctx.device.queue.writeBuffer(this.current(name), 0, v.buffer, v.byteOffset, v.byteLength);
    }
  }

  async read(): Promise<Map<string, Float32Array>> {
    const { device } = this.ctx;
    const encoder = device.createCommandEncoder();
    const staged = [...this.slots.values()].map((s) => {
      const staging = device.createBuffer({ size: s.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(this.current(s.name), 0, staging, 0, s.bytes);
      return [s, staging] as const;
    });
    device.queue.submit([encoder.finish()]);
    const out = new Map<string, Float32Array>();
    for (const [s, staging] of staged) {
      await staging.mapAsync(GPUMapMode.READ);
      out.set(s.name, new Float32Array(staging.getMappedRange().slice(0)));
      staging.unmap();
      staging.destroy();
    }
    return out;
  }

  /** The caller-supplied buffers of an entry: parameters (and, for the step, state and the updated values). */
  private externals(exe: GpuExecutable, step: boolean): Map<number, GPUBuffer> {
    const ext = new Map<number, GPUBuffer>();
    const g = exe.program.graph;
    g.nodes.forEach((n, i) => {
      if (n.op === "param") ext.set(i, this.current(n.attrs.name));
    });
    if (!step) return ext;
    // The state is read from the current slots; updated parameters and state go to the other ones.
    const abi = this.model.train!.abi;
    const next = 1 - this.parity;
    for (const b of inputsWith(abi, "state")) ext.set(exe.bufferNode(exe.nodeOf(b.name, "input")), this.current(b.name));
    for (const b of abi.outputs) {
      const target = updatedBy(b);
      if (target !== undefined) ext.set(exe.bufferNode(exe.nodeOf(b.name, "output")), this.slots.get(target)!.buffers[next]!);
    }
    return ext;
  }

  private check(): void {
    if (this.failure) throw new GpuError(this.failure);
  }

  async step(inputs: ReadonlyMap<string, NDArray>, lr: number, t: number, wantLoss: boolean, seed = 0): Promise<number | undefined> {
    this.check();
    const train = this.model.train;
    if (!train) throw new GpuError("the model was compiled without a training step");
    const exe = await this.executable(train.step);
    const g = exe.program.graph;
    this.hyper.lr[0] = lr;
    this.hyper.step[0] = t;
    const feeds = new Map(inputs);
    for (const b of inputsWith(train.abi, "hyper")) feeds.set(b.name, { shape: [], data: this.hyper[b.hyper] });
    for (const b of inputsWith(train.abi, "key")) feeds.set(b.name, { shape: [2], data: stepKey(seed, t) });
    // State stays in its slots: it is fed here only for its shape.
    const state = new Set(inputsWith(train.abi, "state").map((b) => b.name));
    for (const s of train.state) feeds.set(s.name, { shape: s.shape, data: this.hyper.lr });
    const env = bindDims(g, feeds);
    const ext = this.externals(exe, true);
    const plan = exe.plan(env, new Set(ext.keys()));
    for (const b of g.inputs) {
      if (state.has(b.name)) continue;
      exe.upload(plan, b.node, feeds.get(b.name)!.data);
    }
    await exe.prepare(plan, ext);
    const { device } = this.ctx;
    const profiling = this.options.profiling;
    // Profiled without timestamps, the dispatches run (and are awaited) one by one before the step's own commands.
    const timed: DispatchTiming[] | undefined = profiling?.method === "per-dispatch" ? await exe.dispatchEach(plan, ext) : undefined;
    if (profiling?.method === "timestamp-query") this.timestamps ??= new DispatchTimestamps(device, exe.program.kernels.length);
    const encoder = device.createCommandEncoder();
    const dispatched = timed ? [] : exe.encode(encoder, plan, ext, this.timestamps);
    this.timestamps?.resolve(encoder);
    const lossNode = exe.bufferNode(exe.nodeOf(lossOutput(train.abi), "output"));
    const chunk = Math.floor(this.lossCount / LOSS_CHUNK);
    if (chunk === this.lossChunks.length) this.lossChunks.push(device.createBuffer({ size: LOSS_CHUNK * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC }));
    encoder.copyBufferToBuffer(exe.bufferOf(plan, lossNode, ext), 0, this.lossChunks[chunk]!, (this.lossCount % LOSS_CHUNK) * 4, 4);
    this.lossCount++;
    if (wantLoss) {
      this.lossStaging ??= device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(exe.bufferOf(plan, lossNode, ext), 0, this.lossStaging, 0, 4);
    }
    const submitted = performance.now();
    device.queue.submit([encoder.finish()]);
    this.parity = 1 - this.parity;
    if (profiling) profiling.report(exe.program, plan.env, plan.shapes, timed ?? (await this.timestamps!.read(dispatched, submitted)));
    if (!wantLoss) return undefined;
    await this.lossStaging!.mapAsync(GPUMapMode.READ);
    this.check();
    const loss = new Float32Array(this.lossStaging!.getMappedRange())[0]!;
    this.lossStaging!.unmap();
    return loss;
  }

  async takeLosses(): Promise<Float32Array> {
    this.check();
    const n = this.lossCount;
    this.lossCount = 0;
    if (n === 0) return new Float32Array(0);
    const { device } = this.ctx;
    const staging = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    for (let c = 0; c * LOSS_CHUNK < n; c++) encoder.copyBufferToBuffer(this.lossChunks[c]!, 0, staging, c * LOSS_CHUNK * 4, Math.min(LOSS_CHUNK, n - c * LOSS_CHUNK) * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    this.check();
    const losses = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return losses;
  }

  async run(entry: string, inputs: ReadonlyMap<string, NDArray>): Promise<Map<string, NDArray>> {
    this.check();
    const e = entryOf(this.model, entry);
    if (!e) throw new GpuError(`the model has no entry point '${entry}'`);
    const exe = await this.executable(e);
    const g = exe.program.graph;
    const env = bindDims(g, inputs);
    const ext = this.externals(exe, false);
    const plan = exe.plan(env, new Set(ext.keys()));
    for (const b of g.inputs) exe.upload(plan, b.node, inputs.get(b.name)!.data);
    await exe.prepare(plan, ext);
    const encoder = this.ctx.device.createCommandEncoder();
    exe.encode(encoder, plan, ext);
    this.ctx.device.queue.submit([encoder.finish()]);
    const values = await exe.read(plan, g.outputs.map((o) => o.node), ext);
    return new Map(g.outputs.map((o, i) => [o.name, values[i]!]));
  }

  /** Peak bytes of the training step's intermediate buffers at a batch size. */
  async stepBytes(env: Record<string, number>): Promise<number> {
    const exe = await this.executable(this.model.train!.step);
    return exe.plan(env, new Set(this.externals(exe, true).keys())).peakBytes;
  }

  dispose(): void {
    this.disposed = true;
    this.timestamps?.destroy();
    this.ctx.destroy();
  }
}
