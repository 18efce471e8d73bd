// An executable CPU program: steps bound to buffers.
//
// For each set of symbolic sizes (a batch size) the program is planned once:
// every materialized node gets a buffer, reused between nodes whose lifetimes
// do not overlap, and every step gets its prepared code. Running a step then
// allocates nothing. Outputs are views of the plan's buffers, valid until the
// next run.
//
// In float32, where the host has WebAssembly SIMD, the plan's buffers live in
// the WebAssembly heap of the backend's engine (wasm/engine.ts), laid out once
// per plan, and the steps run there: the products on the SIMD GEMM, fused
// elementwise groups, reductions and pooling as kernels generated for the
// plan's shapes and addresses (wasm/kernel.ts), compiled as one module per
// plan. Sources are copied into their slots at the start of a run. A fused
// group whose ops have no SIMD lanes runs its JavaScript loop on views of the
// same heap. The float64 reference evaluator keeps every JavaScript kernel, so
// the tests compare two implementations.

import { evalShape, type DimEnv } from "../program/dim.js";
import { BINARY_MATH, UNARY_MATH } from "../wasm/math.js";
import { OP_FAMILY } from "../program/ops.js";
import type { CpuProgram, Step } from "../program/program.js";
import { runName } from "../profile/kernels.js";
import { prepareFused, type FusedCompiler } from "./fused.js";
import { bindDims, RunError } from "./bind.js";
import { KERNELS } from "./kernels/index.js";
import type { Kernel } from "./kernels/types.js";
import { size, type Data, type NDArray, type Precision } from "./ndarray.js";
import { createProducts, type GemmChoice, type Products, type WasmEngine } from "./wasm/engine.js";
import { fusedKernel, groupReads, RANGE_PARAMS } from "./wasm/fused.js";
import { isProductOp, wasmKernel, WASM_PRODUCTS, WASM_SCRATCH } from "./wasm/index.js";
import { compileKernels, compileKernelsAsync, kernelsText, slotBytes, type CompiledKernels, type KernelSource, type Slot } from "./wasm/kernel.js";
import { rowReduction, rowsKernel } from "./wasm/reduce.js";
import { blockRows, emitChain, rowChains, splitRange, type RangeStep } from "./wasm/rows.js";
import type { Prepare, PreparedProduct } from "./wasm/products.js";
import type { FunctionBuilder } from "../wasm/assembler.js";

interface Plan {
  readonly env: DimEnv;
  readonly shapes: readonly (readonly number[])[];
  /** Buffer of each node, shared by aliases (reshapes) and by nodes with disjoint lifetimes. */
  readonly buffers: (Data | undefined)[];
  readonly run: (() => void)[];
  /** Bytes of buffers the plan allocated (in the heap: its whole region). */
  readonly bytes: number;
  /** In the heap: each buffer's slot, whose views are made again when the memory grows. */
  readonly slots?: readonly (Slot | undefined)[];
  /** Steps that run as WebAssembly kernels, and those that run JavaScript. */
  readonly wasmSteps: number;
}

/** One run of a plan (a step, or a row chain of steps), for a profile: what it computed and how long it took. */
export interface StepTiming {
  /** The program it belongs to (a backend runs several: the training step, the entry points). */
  readonly program: CpuProgram;
  /** The run's last output node: one per run of a plan. */
  readonly node: number;
  /** The program steps it ran: one, or a row chain's. */
  readonly steps: readonly Step[];
  /** What it computed and at what sizes (runtime/profile/kernels.ts), e.g. "fused[broadcast,add] 128x10", "matmul 128x784x256". */
  readonly label: string;
  /** Where it ran: a WebAssembly kernel or product, or JavaScript. */
  readonly engine: "wasm" | "js";
  /** Every node's shape in the plan that ran it. */
  readonly shapes: readonly (readonly number[])[];
  /** performance.now() when it started. */
  readonly start: number;
  readonly ms: number;
}

export interface CpuExecutableOptions {
  /** Called after every step of every run with its timing (for profiles; it costs two clock reads a step). */
  readonly onStep?: (timing: StepTiming) => void;
  /** Compiles a fused group into a JavaScript runner (the block interpreter by default). */
  readonly fuse?: FusedCompiler;
  /** What runs float32 programs: an engine shared with other executables, or which GEMM to create ("wasm" by default). */
  readonly products?: Products | GemmChoice;
  /**
   * Outputs that may be written over a source, by name (output -> input or
   * parameter): a training step's new parameters and optimizer state over
   * the old ones, so that they stay in the heap from step to step. Honoured in
   * the heap where it is safe (see donations()); the caller then finds the
   * output in the source's buffer.
   */
  readonly donate?: ReadonlyMap<string, string>;
}

function productsFor(precision: Precision, choice: Products | GemmChoice): Products {
  if (precision === "f64") return { kind: "js", reason: "the float64 reference evaluator computes in JavaScript" };
  if (typeof choice === "object") return choice;
  return createProducts(choice);
}

/**
 * A step before binding: JavaScript to call, a WebAssembly product, or a
 * WebAssembly kernel of the plan's module; a kernel that computes a range
 * (an elementwise group, a row reduction) says what it reads, for row chains.
 */
interface PlannedStep {
  readonly step: Step;
  readonly code: (() => void) | { readonly kernel: string; readonly range?: RangeStep; readonly split?: Split };
  readonly product?: true;
}

/** A kernel of (lo, hi) that does not chain but splits across threads: `total` units (images of a pooling) of which threads take multiples of `unit`; `work`: the elements it reads and writes. */
interface Split {
  readonly total: number;
  readonly unit: number;
  readonly work: number;
}

/** One run of a plan before binding: a chain's or one step's kernel, and how it may split across threads. */
interface Job {
  readonly name: string;
  readonly steps: readonly PlannedStep[];
  readonly total: number;
  readonly unit: number;
  /** What splitting it would save, in element-operations (see PARALLEL_COST). */
  readonly cost: number;
}

/** A plan before its kernels are compiled (see draft()). */
interface Draft {
  readonly env: DimEnv;
  readonly shapes: readonly (readonly number[])[];
  readonly buffers: (Data | undefined)[];
  readonly bytes: number;
  readonly wasmSteps: number;
  readonly slots?: readonly (Slot | undefined)[];
  readonly engine: WasmEngine | undefined;
  readonly planned: readonly PlannedStep[];
  readonly kernels: KernelSource[];
  readonly jobs: readonly Job[];
}

const rangeOf = (p: PlannedStep): RangeStep | undefined => (typeof p.code === "object" ? p.code.range : undefined);

/** Pooling kernels take ranges of images (pool.ts). */
const POOLS: ReadonlySet<string> = new Set(["maxPool2d", "maxPool2dGrad", "avgPool2d", "avgPool2dGrad"]);

/**
 * The least cost worth splitting across threads: the elements a job reads
 * and writes, times 1 plus the work of its ops per element (OP_COST, summed
 * over a fused group's ops; the most of a chain's steps). A round trip to
 * the workers costs microseconds, and a kernel of a few additions is bound by
 * memory, where a second thread mostly moves data between the cores' caches
 * (measured: pixels / 255 over 100K elements took 0.03 ms on one thread, 0.11
 * on two); exp, tanh and the like compute enough per element to split early.
 */
const PARALLEL_COST = 1 << 21;
const OP_COST: Readonly<Record<string, number>> = { ...Object.fromEntries([...UNARY_MATH, ...BINARY_MATH].map((op) => [op, 24])), div: 4, sqrt: 4 };
/** Poolings visit a window per element. */
const POOL_COST = 8;

export class CpuExecutable {
  private readonly plans = new Map<string, Plan>();
  /** Plans being compiled asynchronously (prepare()), by sizes. */
  private readonly preparing = new Map<string, Promise<Plan>>();
  private readonly inputOf: Map<number, string>;
  private readonly fuse: FusedCompiler;
  private readonly onStep: ((timing: StepTiming) => void) | undefined;
  private readonly donate: ReadonlyMap<string, string>;
  /** What runs the steps in float32: the wasm engine, or JavaScript and why (always so in float64). */
  readonly products: Products;

  constructor(
    readonly program: CpuProgram,
    readonly precision: Precision = "f32",
    options: CpuExecutableOptions = {},
  ) {
    this.inputOf = new Map(program.graph.inputs.map((b) => [b.node, b.name]));
    this.fuse = options.fuse ?? prepareFused;
    this.onStep = options.onStep;
    this.donate = options.donate ?? new Map();
    this.products = productsFor(precision, options.products ?? "wasm");
  }

  run(feeds: ReadonlyMap<string, NDArray>, params: ReadonlyMap<string, NDArray>): Map<string, NDArray> {
    const plan = this.planFor(bindDims(this.program.graph, feeds));
    const { nodes } = this.program.graph;
    if (plan.slots) this.refreshViews(plan);
    // Sources are copied into their slots in the heap; in JavaScript they are
    // read in place when their arrays already have the type the plan computes in.
    nodes.forEach((n, i) => {
      if (n.op !== "input" && n.op !== "param") return;
      const name = n.op === "param" ? n.attrs.name : this.inputOf.get(i)!;
      const given = n.op === "param" ? params.get(name) : feeds.get(name);
      if (!given) throw new RunError(`${n.op} '${name}' was not given`);
      if (size(given.shape) !== size(plan.shapes[i]!)) throw new RunError(`${n.op} '${name}' has shape [${given.shape.join(", ")}], expected [${plan.shapes[i]!.join(", ")}]`);
      if (plan.slots) {
        const slot = plan.buffers[i]!;
        const inPlace = given.data === slot || (given.data.buffer === slot.buffer && given.data.byteOffset === slot.byteOffset);
        if (!inPlace) slot.set(given.data);
      } else plan.buffers[i] = this.typed(given.data, n.dtype, plan.buffers[i]);
    });
    for (const step of plan.run) step();
    return new Map(this.program.graph.outputs.map((o) => [o.name, { shape: plan.shapes[o.node]!, data: plan.buffers[o.node]! }]));
  }

  /**
   * The plan's own buffers of the inputs and parameters for these feeds' sizes
   * (views of the heap, planning it if needed), holding what `feeds` holds. A
   * caller that writes its next inputs into them and runs with them skips the
   * copy into the heap (benchmarks keep their inputs resident this way). The
   * views stay valid while the heap does not grow; in JavaScript (no heap)
   * they are plain copies.
   */
  sourceViews(feeds: ReadonlyMap<string, NDArray>, params: ReadonlyMap<string, NDArray> = new Map()): Map<string, NDArray> {
    const plan = this.planFor(bindDims(this.program.graph, feeds));
    if (plan.slots) this.refreshViews(plan);
    const views = new Map<string, NDArray>();
    this.program.graph.nodes.forEach((n, i) => {
      if (n.op !== "input" && n.op !== "param") return;
      const name = n.op === "param" ? n.attrs.name : this.inputOf.get(i)!;
      const given = n.op === "param" ? params.get(name) : feeds.get(name);
      if (!given) return;
      const data = plan.slots ? plan.buffers[i]! : given.data.slice();
      if (plan.slots) data.set(given.data);
      views.set(name, { shape: plan.shapes[i]!, data });
    });
    return views;
  }

  /** Peak bytes of intermediate buffers for the given sizes (planning them if needed). */
  bytesFor(env: DimEnv): number {
    return this.planFor(env).bytes;
  }

  /** How many steps of the plan for these sizes run as WebAssembly (products and kernels), out of how many. */
  coverage(env: DimEnv): { readonly wasm: number; readonly steps: number } {
    return { wasm: this.planFor(env).wasmSteps, steps: this.program.steps.filter((s) => s.kind !== "alias").length };
  }

  private planFor(env: DimEnv): Plan {
    const key = JSON.stringify(env);
    let plan = this.plans.get(key);
    if (!plan) this.plans.set(key, (plan = this.plan(env)));
    return plan;
  }

  private typed(data: Data, dtype: "f32" | "i32", previous: Data | undefined): Data {
    const want = dtype === "i32" ? Int32Array : this.precision === "f64" ? Float64Array : Float32Array;
    if (data instanceof want) return data;
    const out = previous instanceof want && previous.length === data.length ? previous : new want(data.length);
    out.set(data);
    return out;
  }

  /** `code` (the run of `steps`: one, or a row chain's) reporting its time to onStep. */
  private timed(code: () => void, steps: readonly PlannedStep[], shapes: readonly (readonly number[])[]): () => void {
    const [p] = steps as [PlannedStep];
    const ran = steps.map((q) => q.step);
    const timing = { program: this.program, node: ran[ran.length - 1]!.node, steps: ran, label: runName(this.program.graph, shapes, ran), engine: p.product || typeof p.code !== "function" ? ("wasm" as const) : ("js" as const), shapes };
    const report = this.onStep!;
    return () => {
      const start = performance.now();
      code();
      report({ ...timing, start, ms: performance.now() - start });
    };
  }

  /** Views of a heap plan's slots over the memory's current buffer (made again after it grew). */
  private refreshViews(plan: Plan): void {
    const { heap } = (this.products as { engine: WasmEngine }).engine;
    const buffer = heap.memory.buffer;
    plan.slots!.forEach((s, i) => {
      const view = plan.buffers[i];
      if (!s || (view && view.buffer === buffer)) return;
      const len = size(s.shape);
      plan.buffers[i] = s.dtype === "i32" ? new Int32Array(buffer, s.at, len) : new Float32Array(buffer, s.at, len);
    });
  }

  /**
   * The outputs written over their donated sources (output node -> source
   * node): where the output is computed by an elementwise step (a fused group
   * or one node) that reads the source, if at all, element for element, no
   * step after it reads the source, and both have one size and dtype. Each
   * element is then read before it is written, by the same thread, and row
   * chains see the shared cell (rows.ts checks that reads stay row-local).
   */
  private donations(home: readonly number[], lastUse: ReadonlyMap<number, number>, shapes: readonly (readonly number[])[]): Map<number, number> {
    const { nodes, inputs, outputs } = this.program.graph;
    const steps = this.program.steps;
    const sourceOf = new Map<string, number>();
    nodes.forEach((n, i) => n.op === "param" && sourceOf.set(n.attrs.name, i));
    for (const b of inputs) sourceOf.set(b.name, b.node);
    const stepOf = new Map(steps.map((s, k) => [s.node, k]));
    const donated = new Map<number, number>();
    const taken = new Set<number>();
    for (const [outName, srcName] of this.donate) {
      const out = outputs.find((o) => o.name === outName)?.node;
      const src = sourceOf.get(srcName);
      if (out === undefined || src === undefined || home[out] !== out || taken.has(src) || donated.has(out)) continue;
      const k = stepOf.get(out);
      const step = k === undefined ? undefined : steps[k]!;
      if (!step || step.kind === "alias" || (lastUse.get(src) ?? -1) > k!) continue;
      if (nodes[out]!.dtype !== nodes[src]!.dtype || size(shapes[out]!) !== size(shapes[src]!)) continue;
      const members = step.kind === "fused" ? step.members : [step.node];
      if (step.kind === "kernel" && OP_FAMILY[nodes[out]!.op] !== "elementwise") continue;
      if (outputs.filter((o) => home[o.node] === out).length > 1) continue;
      const reads = groupReads(nodes, members, shapes).filter((r) => home[r.buffer] === src);
      if (reads.some((r) => r.access.kind !== "flat")) continue;
      donated.set(out, src);
      taken.add(src);
    }
    return donated;
  }

  /**
   * The plan's runs before binding: range steps grouped into row chains
   * (rows.ts), each chain one function looping over blocks of rows (added to
   * `kernels`), and every other step alone. Units are rows (a chain), images
   * (a pooling) or elements; cost as PARALLEL_COST says.
   */
  private jobsOf(planned: readonly PlannedStep[], kernels: KernelSource[], cellOf: (node: number) => number | undefined): Job[] {
    const chains = rowChains(planned.map(rangeOf), cellOf);
    const chainAt = new Map(chains.map((c) => [c.members[0]!.step, c]));
    const inChain = new Set(chains.flatMap((c) => c.members.map((m) => m.step)));
    const kernelOf = (k: number): string => (planned[k]!.code as { kernel: string }).kernel;
    const { nodes } = this.program.graph;
    /** 1 + the work of a step's ops per element. */
    const intensity = (p: PlannedStep): number => 1 + (p.step.kind === "fused" ? p.step.members : [p.step.node]).reduce((a, m) => a + (OP_COST[nodes[m]!.op] ?? 0.5), 0);
    const jobs: Job[] = [];
    planned.forEach((p, k) => {
      const chain = chainAt.get(k);
      if (chain) {
        const name = `rows_${p.step.node}`;
        const block = blockRows(chain);
        const members = chain.members.map((m) => ({ name: kernelOf(m.step), width: m.width }));
        kernels.push({ name, params: RANGE_PARAMS, emit: (f, indexOf) => emitChain(f, members, block, indexOf) });
        const steps = chain.members.map((m) => planned[m.step]!);
        const work = (chain.rows * chain.rowBytes) / 4;
        jobs.push({ name, steps, total: chain.rows, unit: chain.unit, cost: work * Math.max(...steps.map(intensity)) });
      } else if (!inChain.has(k)) {
        const r = rangeOf(p);
        const split = typeof p.code === "object" ? p.code.split : undefined;
        const name = typeof p.code === "object" ? p.code.kernel : "";
        if (split) jobs.push({ name, steps: [p], total: split.total, unit: split.unit, cost: split.work * POOL_COST });
        else {
          const work = r ? r.size * (1 + r.reads.length) : 0;
          jobs.push({ name, steps: [p], total: r?.size ?? 0, unit: 16, cost: work * intensity(p) });
        }
      }
    });
    return jobs;
  }

  /**
   * Binds each job to the compiled kernels: chains and other range steps split
   * across the engine's workers where their cost pays for it (each thread a
   * range of rows, images or elements, so results do not depend on the
   * thread count).
   */
  private bindJobs(engine: WasmEngine, jobs: readonly Job[], compiled: CompiledKernels | undefined): { code: () => void; steps: readonly PlannedStep[] }[] {
    if (!compiled) return jobs.map((j) => ({ code: j.steps[0]!.code as () => void, steps: j.steps }));
    const { entries, module } = compiled;
    const pool = engine.gemm.pool;
    const threads = pool ? pool.size + 1 : 1;
    const least = engine.parallelCost ?? PARALLEL_COST;
    const split = jobs.map((j) => (pool && j.cost >= least ? splitRange(j.total, j.unit, threads) : [[0, j.total] as [number, number]]));
    const parallel = jobs.flatMap((j, k) => (split[k]!.length > 1 ? [j.name] : []));
    const first = parallel.length ? pool!.load(module, parallel) : 0;
    return jobs.map((j, k) => {
      const p = j.steps[0]!;
      if (typeof p.code === "function") return { code: p.code, steps: j.steps };
      const fn = entries.get(j.name)!;
      if (!rangeOf(p) && !p.code.split && j.steps.length === 1) return { code: fn as () => void, steps: j.steps };
      const parts = split[k]!;
      const [lo, hi] = parts[0]!;
      if (parts.length === 1) return { code: () => fn(lo, hi), steps: j.steps };
      const index = first + parallel.indexOf(j.name);
      const posted = parts.slice(1).map(([a, b]) => ({ fn: index, args: [a, b] }));
      return { code: () => pool!.run(posted, () => fn(lo, hi)), steps: j.steps };
    });
  }

  /** The plan for these sizes, its kernels compiled synchronously. */
  private plan(env: DimEnv): Plan {
    const d = this.draft(env);
    return this.finish(d, d.engine && d.kernels.length ? compileKernels(d.engine.heap.memory, d.kernels) : undefined);
  }

  /**
   * Plans the buffers and compiles the kernels for these feeds' sizes ahead of
   * run(), asynchronously: what a browser's main thread needs (it refuses to
   * compile or instantiate a module over 4 KB synchronously). run() then
   * finds the plan made. Concurrent calls for the same sizes share one plan.
   */
  async prepare(feeds: ReadonlyMap<string, NDArray>): Promise<void> {
    const env = bindDims(this.program.graph, feeds);
    const key = JSON.stringify(env);
    if (this.plans.has(key)) return;
    let pending = this.preparing.get(key);
    if (!pending) {
      const d = this.draft(env);
      pending = (d.engine && d.kernels.length ? compileKernelsAsync(d.engine.heap.memory, d.kernels) : Promise.resolve(undefined)).then((compiled) => this.finish(d, compiled));
      this.preparing.set(key, pending);
    }
    try {
      const plan = await pending;
      if (!this.plans.has(key)) this.plans.set(key, plan);
    } finally {
      this.preparing.delete(key);
    }
  }

  /**
   * The WebAssembly module that the plan for these sizes compiles, as text
   * (undefined when the plan has no kernels: JavaScript, or nothing to emit).
   * Products and convolutions call the engine's GEMM module, which is not in it.
   */
  wasmText(env: DimEnv): string | undefined {
    const d = this.draft(env);
    return d.engine && d.kernels.length ? kernelsText(d.engine.heap.memory, d.kernels) : undefined;
  }

  /** The plan with its runs bound to the compiled kernels (none in JavaScript, or where there are no kernels). */
  private finish(d: Draft, compiled: CompiledKernels | undefined): Plan {
    const run = d.engine ? this.bindJobs(d.engine, d.jobs, compiled) : d.planned.map((p) => ({ code: p.code as () => void, steps: [p] }));
    // Aliases (JavaScript plans only) move no data: a profile has no kernel for them.
    const runs = run.map(({ code, steps }) => (this.onStep && steps[0]!.step.kind !== "alias" ? this.timed(code, steps, d.shapes) : code));
    const plan: Plan = { env: d.env, shapes: d.shapes, buffers: d.buffers, run: runs, bytes: d.bytes, wasmSteps: d.wasmSteps, ...(d.slots ? { slots: d.slots } : {}) };
    if (d.slots) this.refreshViews(plan);
    return plan;
  }

  /** Everything of a plan but its compiled kernels: buffers laid out, steps planned, kernels to emit. */
  private draft(env: DimEnv): Draft {
    const { nodes, outputs } = this.program.graph;
    const steps = this.program.steps;
    const shapes = nodes.map((n) => evalShape(n.shape, env));
    const buffers: (Data | undefined)[] = new Array(nodes.length);
    const engine = this.products.kind === "wasm" ? this.products.engine : undefined;

    // Which buffer each node lives in: aliases share their input's.
    const home = nodes.map((_, i) => i);
    for (const s of steps) if (s.kind === "alias") home[s.node] = home[nodes[s.node]!.inputs[0]!]!;
    // The last step that reads each buffer; outputs live to the end.
    const lastUse = new Map<number, number>();
    steps.forEach((s, k) => {
      const reads = s.kind === "fused" ? s.members.flatMap((m) => nodes[m]!.inputs).filter((i) => !s.members.includes(i)) : nodes[s.node]!.inputs;
      for (const i of reads) lastUse.set(home[i]!, k);
      if (s.kind === "alias") lastUse.set(home[s.node]!, Math.max(lastUse.get(home[s.node]!) ?? k, k));
    });
    for (const o of outputs) lastUse.set(home[o.node]!, Infinity);
    const release = new Map<number, number[]>();
    for (const [b, k] of lastUse) if (k !== Infinity) release.set(k, [...(release.get(k) ?? []), b]);

    // Storage: allocated at first write, released after last read; a released
    // cell of the same size is reused. In the heap a cell is a byte offset in
    // the plan's region (any dtype of 4 bytes); in JavaScript a typed array.
    const offsets = new Array<number | undefined>(nodes.length);
    let regionBytes = 0;
    const free = new Map<string, (number | Data)[]>();
    const cellKey = (dtype: string, len: number) => (engine ? `${slotBytes(len)}` : `${dtype}:${len}`);
    let bytes = 0;
    // In the heap, outputs computed over their donated sources take the sources' cells.
    const donated = engine ? this.donations(home, lastUse, shapes) : new Map<number, number>();
    const place = (i: number): void => {
      const n = nodes[i]!;
      const over = donated.get(i);
      if (over !== undefined) {
        offsets[i] = offsets[over];
        return;
      }
      const len = size(shapes[i]!);
      const reuse = free.get(cellKey(n.dtype, len))?.pop();
      if (engine) {
        offsets[i] = (reuse as number | undefined) ?? regionBytes;
        if (reuse === undefined) regionBytes += slotBytes(len);
      } else {
        const buf = (reuse as Data | undefined) ?? (n.dtype === "i32" ? new Int32Array(len) : this.precision === "f64" ? new Float64Array(len) : new Float32Array(len));
        if (!reuse) bytes += buf.byteLength;
        buffers[i] = buf;
      }
    };
    // Sources own their slots in the heap for the plan's life.
    if (engine) nodes.forEach((n, i) => (n.op === "input" || n.op === "param") && place(i));
    steps.forEach((s, k) => {
      if (s.kind !== "alias") place(s.node);
      for (const b of release.get(k) ?? []) {
        const n = nodes[b]!;
        if (n.op === "input" || n.op === "param") continue;
        const cell = engine ? offsets[b] : buffers[b];
        if (cell === undefined) continue;
        const key = cellKey(n.dtype, size(shapes[b]!));
        free.set(key, [...(free.get(key) ?? []), cell]);
      }
    });

    // In the heap: the products' shared scratch, then the buffers.
    let slots: (Slot | undefined)[] | undefined;
    let scratchAt = 0;
    let prepared: ReadonlyMap<number, PreparedProduct> = new Map();
    if (engine) {
      prepared = new Map(
        steps.flatMap((s) => {
          const n = nodes[s.node]!;
          if (s.kind !== "kernel" || !isProductOp(n.op)) return [];
          const [a, b] = n.inputs as [number, number];
          return [[s.node, (WASM_PRODUCTS[n.op] as Prepare<typeof n.op>)(engine, shapes[s.node]!, [shapes[a]!, shapes[b]!], n.attrs as never)] as const];
        }),
      );
      // Kernels run one at a time (a product's threads each have their share): one region serves them all.
      const kernelScratch = steps.map((s) => {
        const n = nodes[s.node]!;
        return s.kind === "kernel" ? (WASM_SCRATCH[n.op]?.({ shape: shapes[s.node]!, dtype: n.dtype }) ?? 0) : 0;
      });
      const scratch = Math.max(0, ...kernelScratch, ...[...prepared.values()].map((p) => p.scratchBytes));
      const base = engine.heap.allocate(scratch + regionBytes + 16);
      scratchAt = base;
      const buffersAt = base + Math.ceil(scratch / 16) * 16;
      bytes = buffersAt + regionBytes - base;
      slots = nodes.map((n, i) => {
        const at = offsets[home[i]!];
        return at === undefined ? undefined : { at: buffersAt + at, shape: shapes[i]!, dtype: n.dtype };
      });
    }

    const planned: PlannedStep[] = [];
    const kernels: KernelSource[] = [];
    let wasmSteps = 0;
    const slotOf = (i: number): Slot => slots![i]!;
    for (const s of steps) {
      const i = s.node;
      const n = nodes[i]!;
      if (s.kind === "alias") {
        if (!slots) planned.push({ step: s, code: () => (buffers[i] = buffers[home[i]!]) });
        continue;
      }
      /** A fused group's reads, as rows.ts sees them (buffers, not aliases). */
      const rangeOf = (members: readonly number[]): RangeStep => ({ node: i, size: size(shapes[i]!), reads: groupReads(nodes, members, shapes).map((r) => ({ ...r, buffer: home[r.buffer]! })) });
      if (s.kind === "fused") {
        const emit = slots ? fusedKernel(nodes, s.members, i, shapes, env, slotOf) : undefined;
        if (typeof emit === "function") {
          const name = `fused_${i}`;
          kernels.push({ name, params: RANGE_PARAMS, emit });
          planned.push({ step: s, code: { kernel: name, range: rangeOf(s.members) } });
          wasmSteps++;
        } else {
          const loop = this.fuse(nodes, s.members, i, shapes, env, this.precision);
          planned.push({ step: s, code: () => loop(buffers) });
        }
        continue;
      }
      const product = prepared.get(i);
      if (product) {
        const [a, b] = n.inputs as [number, number];
        planned.push({ step: s, code: product.bind({ out: slotOf(i).at, a: slotOf(a).at, b: slotOf(b).at, scratch: scratchAt }), product: true });
        wasmSteps++;
        continue;
      }
      if (slots) {
        const name = `${n.op}_${i}`;
        const rows = (n.op === "sum" || n.op === "max") && rowReduction(shapes[n.inputs[0]!]!, n.attrs.axes);
        if (rows) {
          // A row reduction: a range kernel, for row chains and threads.
          const x = n.inputs[0]!;
          kernels.push({ name, params: RANGE_PARAMS, emit: rowsKernel(n.op as "sum" | "max", slotOf(i), slotOf(x), rows.width) });
          planned.push({ step: s, code: { kernel: name, range: { node: i, size: rows.rows, reduce: rows, reads: [{ buffer: home[x]!, access: { kind: "flat" } }] } } });
          wasmSteps++;
          continue;
        }
        const emitter = wasmKernel(n.op);
        if (emitter) {
          const pool = POOLS.has(n.op);
          kernels.push({ name, ...(pool ? { params: RANGE_PARAMS } : {}), emit: (f) => emitter(f, slotOf(i), n.inputs.map(slotOf), n.attrs as never, scratchAt) });
          const work = size(shapes[i]!) + n.inputs.reduce((a, j) => a + size(shapes[j]!), 0);
          planned.push({ step: s, code: { kernel: name, ...(pool ? { split: { total: shapes[i]![0]!, unit: 1, work } } : {}) } });
          wasmSteps++;
          continue;
        }
        const emit = fusedKernel(nodes, [i], i, shapes, env, slotOf);
        if (typeof emit === "function") {
          kernels.push({ name, params: RANGE_PARAMS, emit });
          planned.push({ step: s, code: { kernel: name, range: rangeOf([i]) } });
          wasmSteps++;
          continue;
        }
      }
      const kernel = KERNELS[n.op];
      if (typeof kernel !== "function") throw new Error(`internal: ${n.op} has no kernel`);
      const out = { shape: shapes[i]!, get data() { return buffers[i]!; } };
      const inputs = n.inputs.map((j) => ({ shape: shapes[j]!, get data() { return buffers[j]!; } }));
      planned.push({ step: s, code: () => (kernel as Kernel<typeof n.op>)(out, inputs, n.attrs as never, env) });
    }

    const jobs = engine ? this.jobsOf(planned, kernels, (node) => offsets[home[node]!]) : [];
    return { env, shapes, buffers, bytes, wasmSteps, engine, planned, kernels, jobs, ...(slots ? { slots } : {}) };
  }
}
