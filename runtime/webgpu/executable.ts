// An executable WebGPU program.
//
// Pipelines are compiled once. For each set of symbolic sizes (a batch size)
// the program is planned once: every buffer gets a GPUBuffer, intermediate
// ones reused between values whose lifetimes do not overlap (the peak is
// reported), and bind groups are created for each combination of external
// buffers the caller supplies (a training step alternates two). Running then
// allocates nothing: it encodes one compute pass with every dispatch.
// WGSL compilation and validation errors become GpuError with the kernel's
// name and the offending line, never a hang.

import { evalDim, type DimEnv } from "../program/dim.js";
import type { GpuKernel, GpuProgram } from "../program/gpu.js";
import type { NDArray } from "../cpu/ndarray.js";
import { bindDims } from "../cpu/bind.js";
import type { GpuContext } from "./device.js";
import { bufferNodes, planMemory } from "./memory.js";
import type { DispatchTimestamps, DispatchTiming } from "./timing.js";

export class GpuError extends Error {}

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

interface Plan {
  readonly env: DimEnv;
  readonly shapes: readonly (readonly number[])[];
  readonly dims: GPUBuffer;
  /** Buffer of each buffer-holding node (views resolved), for the nodes the plan owns. */
  readonly owned: Map<number, GPUBuffer>;
  /** Workgroups of each kernel as [x, y], 0 to skip. */
  readonly grids: readonly [number, number][];
  readonly bindGroups: Map<string, GPUBindGroup[]>;
  readonly peakBytes: number;
}

export class GpuExecutable {
  private readonly plans = new Map<string, Plan>();
  private readonly base: Map<number, number>;

  private constructor(
    readonly ctx: GpuContext,
    readonly program: GpuProgram,
    private readonly pipelines: GPUComputePipeline[],
    private readonly layouts: GPUBindGroupLayout[],
  ) {
    this.base = bufferNodes(program);
  }

  static async create(ctx: GpuContext, program: GpuProgram): Promise<GpuExecutable> {
    const layouts = program.kernels.map((k) => layoutOf(ctx.device, k));
    const pipelines = await Promise.all(program.kernels.map((k, i) => compile(ctx.device, k, layouts[i]!)));
    return new GpuExecutable(ctx, program, pipelines, layouts);
  }

  /** The buffer node a node's value is in (itself, or what it is a view of). */
  bufferNode(node: number): number {
    const b = this.base.get(node);
    if (b === undefined) throw new GpuError(`internal: node ${node} has no buffer`);
    return b;
  }

  nodeOf(name: string, kind: "input" | "output" | "param"): number {
    const g = this.program.graph;
    if (kind === "param") {
      const i = g.nodes.findIndex((n) => n.op === "param" && n.attrs.name === name);
      if (i < 0) throw new GpuError(`the program has no parameter '${name}'`);
      return i;
    }
    const b = (kind === "input" ? g.inputs : g.outputs).find((x) => x.name === name);
    if (!b) throw new GpuError(`the program has no ${kind} '${name}'`);
    return b.node;
  }

  /** Plans buffers for these sizes; nodes in `external` are supplied by the caller at encode time. */
  plan(env: DimEnv, external: ReadonlySet<number> = new Set()): Plan {
    const key = JSON.stringify(env) + "|" + [...external].sort((a, b) => a - b).join(",");
    const known = this.plans.get(key);
    if (known) return known;
    const { device } = this.ctx;
    const memory = planMemory(this.program, env, external);
    const buffers = memory.slots.map((bytes) => device.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: STORAGE() }));
    const owned = new Map([...memory.slotOf].map(([node, slot]) => [node, buffers[slot]!]));
    const dims = device.createBuffer({ size: Math.max(16, Math.ceil((this.program.symbols.length * 4) / 16) * 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(dims, 0, Uint32Array.from(this.program.symbols.map((s) => env[s] ?? 0)));
    const maxX = device.limits.maxComputeWorkgroupsPerDimension;
    const grids = this.program.kernels.map((k): [number, number] => {
      const count = workgroups(k, env);
      if (count === 0) return [0, 0];
      const x = Math.min(count, maxX);
      const y = Math.ceil(count / x);
      if (y > maxX) throw new GpuError(`kernel ${k.name} needs ${count} workgroups, more than this adapter dispatches (${maxX} x ${maxX})`);
      return [x, y];
    });
    const plan: Plan = { env, shapes: memory.shapes, dims, owned, grids, bindGroups: new Map(), peakBytes: memory.peakBytes };
    this.plans.set(key, plan);
    return plan;
  }

  /** Creates (once per plan and external buffers) and validates the bind groups of every kernel. */
  async prepare(plan: Plan, external: ReadonlyMap<number, GPUBuffer> = new Map()): Promise<void> {
    const key = bindKey(external);
    if (plan.bindGroups.has(key)) return;
    const { device } = this.ctx;
    device.pushErrorScope("validation");
    const groups = this.createBindGroups(plan, external);
    const error = await device.popErrorScope();
    if (error) throw new GpuError(`binding buffers failed validation: ${error.message}`);
    plan.bindGroups.set(key, groups);
  }

  private createBindGroups(plan: Plan, external: ReadonlyMap<number, GPUBuffer>): GPUBindGroup[] {
    const limit = this.ctx.device.limits.maxStorageBufferBindingSize;
    return this.program.kernels.map((k, t) =>
      this.ctx.device.createBindGroup({
        layout: this.layouts[t]!,
        entries: [
          { binding: 0, resource: { buffer: plan.dims } },
          ...k.bindings.map((b, i) => {
            const node = this.bufferNode(b.node);
            const buffer = external.get(node) ?? plan.owned.get(node);
            if (!buffer) throw new GpuError(`internal: kernel ${k.name} binds node ${node}, which has no buffer`);
            const size = Math.max(4, plan.shapes[node]!.reduce((a, c) => a * c, 1) * 4);
            if (size > limit) throw new GpuError(`kernel ${k.name} binds ${size} bytes, more than this adapter's storage binding limit (${limit}); use a smaller batch`);
            return { binding: i + 1, resource: { buffer, size } };
          }),
        ],
      }),
    );
  }

  /**
   * Records every dispatch of the program into one compute pass (after
   * `prepare` with the same buffers); with `timestamps` (a profile), each
   * dispatch into a pass of its own that they bracket. Returns the kernels
   * dispatched, in order.
   */
  encode(encoder: GPUCommandEncoder, plan: Plan, external: ReadonlyMap<number, GPUBuffer> = new Map(), timestamps?: DispatchTimestamps): number[] {
    const groups = this.bindGroups(plan, external);
    const dispatched = this.dispatched(plan);
    let pass: GPUComputePassEncoder | undefined;
    for (const t of dispatched) {
      if (timestamps) pass = encoder.beginComputePass(timestamps.pass(t));
      else pass ??= encoder.beginComputePass();
      this.dispatch(pass, plan, groups, t);
      if (timestamps) pass.end();
    }
    if (!timestamps) (pass ?? encoder.beginComputePass()).end();
    return dispatched;
  }

  /** Runs each dispatch alone, submitted and awaited, timed on the host clock (a profile where the device has no timestamps). */
  async dispatchEach(plan: Plan, external: ReadonlyMap<number, GPUBuffer> = new Map()): Promise<DispatchTiming[]> {
    const groups = this.bindGroups(plan, external);
    const { device } = this.ctx;
    const timings: DispatchTiming[] = [];
    for (const t of this.dispatched(plan)) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      this.dispatch(pass, plan, groups, t);
      pass.end();
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      timings.push({ kernel: t, start, ms: performance.now() - start });
    }
    return timings;
  }

  private bindGroups(plan: Plan, external: ReadonlyMap<number, GPUBuffer>): GPUBindGroup[] {
    const groups = plan.bindGroups.get(bindKey(external));
    if (!groups) throw new GpuError("internal: encode before prepare");
    return groups;
  }

  /** The kernels with work at the plan's sizes, in order (an empty grid is skipped). */
  private dispatched(plan: Plan): number[] {
    return this.program.kernels.flatMap((_, t) => (plan.grids[t]![0] === 0 ? [] : [t]));
  }

  private dispatch(pass: GPUComputePassEncoder, plan: Plan, groups: readonly GPUBindGroup[], t: number): void {
    const [x, y] = plan.grids[t]!;
    pass.setPipeline(this.pipelines[t]!);
    pass.setBindGroup(0, groups[t]!);
    pass.dispatchWorkgroups(x, y);
  }

  bufferOf(plan: Plan, node: number, external: ReadonlyMap<number, GPUBuffer> = new Map()): GPUBuffer {
    const b = this.bufferNode(node);
    const buffer = external.get(b) ?? plan.owned.get(b);
    if (!buffer) throw new GpuError(`internal: node ${node} has no buffer in this plan`);
    return buffer;
  }

  /** Writes an array into a node's buffer. */
  upload(plan: Plan, node: number, data: NDArray["data"], external?: ReadonlyMap<number, GPUBuffer>): void {
    const want = this.program.graph.nodes[node]!.dtype === "i32" ? Int32Array : Float32Array;
    const typed = data instanceof want ? data : want.from(data as ArrayLike<number>);
    this.ctx.device.queue.writeBuffer(this.bufferOf(plan, node, external), 0, typed.buffer, typed.byteOffset, typed.byteLength);
  }

  /** Copies the given nodes' values back to the host (after the queue's work so far). */
  async read(plan: Plan, nodes: readonly number[], external?: ReadonlyMap<number, GPUBuffer>): Promise<NDArray[]> {
    const { device } = this.ctx;
    const encoder = device.createCommandEncoder();
    const staging = nodes.map((node) => {
      const size = Math.max(4, plan.shapes[node]!.reduce((a, b) => a * b, 1) * 4);
      const s = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(this.bufferOf(plan, node, external), 0, s, 0, size);
      return s;
    });
    device.queue.submit([encoder.finish()]);
    return Promise.all(
      staging.map(async (s, i) => {
        await s.mapAsync(GPUMapMode.READ);
        const node = nodes[i]!;
        const raw = s.getMappedRange().slice(0);
        s.unmap();
        s.destroy();
        const data = this.program.graph.nodes[node]!.dtype === "i32" ? new Int32Array(raw) : new Float32Array(raw);
        return { shape: plan.shapes[node]!, data: data.subarray(0, plan.shapes[node]!.reduce((a, b) => a * b, 1)) };
      }),
    );
  }

  /** Runs the program once on host arrays and reads every output back (tests, inference). */
  async run(feeds: ReadonlyMap<string, NDArray>, params: ReadonlyMap<string, NDArray>): Promise<Map<string, NDArray>> {
    const env = bindDims(this.program.graph, feeds);
    const plan = this.plan(env);
    for (const { name, node } of this.program.graph.inputs) this.upload(plan, node, feeds.get(name)!.data);
    this.program.graph.nodes.forEach((n, i) => {
      if (n.op !== "param") return;
      const p = params.get(n.attrs.name);
      if (!p) throw new GpuError(`parameter '${n.attrs.name}' was not given`);
      this.upload(plan, i, p.data);
    });
    await this.prepare(plan);
    const encoder = this.ctx.device.createCommandEncoder();
    this.encode(encoder, plan);
    this.ctx.device.queue.submit([encoder.finish()]);
    const outs = this.program.graph.outputs;
    const values = await this.read(plan, outs.map((o) => o.node));
    return new Map(outs.map((o, i) => [o.name, values[i]!]));
  }

  peakBytes(env: DimEnv): number {
    return this.plan(env).peakBytes;
  }
}

/** The kernel's workgroup count at these sizes. */
export function workgroups(k: GpuKernel, env: DimEnv): number {
  return k.grid.reduce((acc, t) => acc * Math.ceil(evalDim(t.size, env) / t.per), 1);
}

function bindKey(external: ReadonlyMap<number, GPUBuffer>): string {
  return [...external].map(([n, b]) => `${n}:${label(b)}`).join(",");
}

const labels = new WeakMap<GPUBuffer, number>();
let nextLabel = 0;
function label(b: GPUBuffer): number {
  let l = labels.get(b);
  if (l === undefined) labels.set(b, (l = nextLabel++));
  return l;
}

/** The kernel's bindings, declared explicitly: the dims uniform, then its buffers (an unused binding stays bound). */
function layoutOf(device: GPUDevice, k: GpuKernel): GPUBindGroupLayout {
  const limit = device.limits.maxStorageBuffersPerShaderStage;
  if (k.bindings.length > limit) throw new GpuError(`kernel ${k.name} binds ${k.bindings.length} buffers, more than this adapter allows (${limit})`);
  return device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } },
      ...k.bindings.map((b, i) => ({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.write ? ("storage" as const) : ("read-only-storage" as const) } })),
    ],
  });
}

async function compile(device: GPUDevice, k: GpuKernel, layout: GPUBindGroupLayout): Promise<GPUComputePipeline> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ code: k.wgsl, label: k.name });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    await device.popErrorScope();
    const m = errors[0]!;
    const line = k.wgsl.split("\n")[m.lineNum - 1] ?? "";
    throw new GpuError(`WGSL error in kernel ${k.name} at line ${m.lineNum}: ${m.message}\n  ${line.trim()}`);
  }
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await device.createComputePipelineAsync({ layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: "main" }, label: k.name });
  } finally {
    const error = await device.popErrorScope();
    if (error) throw new GpuError(`kernel ${k.name} failed validation: ${error.message}`);
  }
  return pipeline;
}
