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
// plan. Sources are copied into their slots at the start of a run. A step the
// wasm kernels do not cover yet runs its JavaScript kernel on views of the
// same heap. The float64 reference evaluator keeps every JavaScript kernel, so
// the tests compare two implementations.

import { evalShape, type DimEnv } from "../program/dim.js";
import type { CpuProgram, Step } from "../program/program.js";
import { prepareFused, type FusedCompiler } from "./fused.js";
import { bindDims, RunError } from "./bind.js";
import { KERNELS } from "./kernels/index.js";
import type { Kernel } from "./kernels/types.js";
import { size, type Data, type NDArray, type Precision } from "./ndarray.js";
import { createProducts, type GemmChoice, type Products, type WasmEngine } from "./wasm/engine.js";
import { fusedKernel } from "./wasm/fused.js";
import { isProductOp, wasmKernel, WASM_PRODUCTS } from "./wasm/index.js";
import { compileKernels, slotBytes, type KernelSource, type Slot } from "./wasm/kernel.js";
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

/** One step's run, for a profile: what it computed and how long it took. */
export interface StepTiming {
  /** The step's output node. */
  readonly node: number;
  /** The ops it computes (a fused group's members, in order) and its output shape, e.g. "fused[broadcast,add] 128x10". */
  readonly label: string;
  /** Where it ran: a WebAssembly kernel or product, or JavaScript. */
  readonly engine: "wasm" | "js";
  readonly ms: number;
}

export interface CpuExecutableOptions {
  /** Called after every step of every run with its timing (for profiles; it costs two clock reads a step). */
  readonly onStep?: (timing: StepTiming) => void;
  /** Compiles a fused group into a JavaScript runner (the block interpreter by default). */
  readonly fuse?: FusedCompiler;
  /** What runs float32 programs: an engine shared with other executables, or which GEMM to create ("wasm" by default). */
  readonly products?: Products | GemmChoice;
}

function productsFor(precision: Precision, choice: Products | GemmChoice): Products {
  if (precision === "f64") return { kind: "js", reason: "the float64 reference evaluator computes in JavaScript" };
  if (typeof choice === "object") return choice;
  return createProducts(choice);
}

/** A step before binding: JavaScript to call, a WebAssembly product, or a WebAssembly kernel of the plan's module. */
interface PlannedStep {
  readonly step: Step;
  readonly code: (() => void) | { readonly kernel: string };
  readonly product?: true;
}

export class CpuExecutable {
  private readonly plans = new Map<string, Plan>();
  private readonly inputOf: Map<number, string>;
  private readonly fuse: FusedCompiler;
  private readonly onStep: ((timing: StepTiming) => void) | undefined;
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
      if (plan.slots) plan.buffers[i]!.set(given.data);
      else plan.buffers[i] = this.typed(given.data, n.dtype, plan.buffers[i]);
    });
    for (const step of plan.run) step();
    return new Map(this.program.graph.outputs.map((o) => [o.name, { shape: plan.shapes[o.node]!, data: plan.buffers[o.node]! }]));
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

  /** `code` reporting its time to onStep. */
  private timed(code: () => void, p: PlannedStep, shapes: readonly (readonly number[])[]): () => void {
    const { nodes } = this.program.graph;
    const { step } = p;
    const ops = step.kind === "fused" ? `fused[${step.members.map((m) => nodes[m]!.op).filter((op) => op !== "const").join(",")}]` : nodes[step.node]!.op;
    const timing = { node: step.node, label: `${ops} ${shapes[step.node]!.join("x")}`, engine: p.product || typeof p.code !== "function" ? ("wasm" as const) : ("js" as const) };
    const report = this.onStep!;
    return () => {
      const t0 = performance.now();
      code();
      report({ ...timing, ms: performance.now() - t0 });
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

  private plan(env: DimEnv): Plan {
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
    const place = (i: number): void => {
      const n = nodes[i]!;
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
      const scratch = Math.max(0, ...[...prepared.values()].map((p) => p.scratchBytes));
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
      if (s.kind === "fused") {
        const emit = slots ? fusedKernel(nodes, s.members, i, shapes, env, slotOf) : undefined;
        if (typeof emit === "function") {
          const name = `fused_${i}`;
          kernels.push({ name, emit });
          planned.push({ step: s, code: { kernel: name } });
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
        const emitter = wasmKernel(n.op);
        const emit = emitter ? (f: FunctionBuilder) => emitter(f, slotOf(i), n.inputs.map(slotOf), n.attrs as never) : fusedKernel(nodes, [i], i, shapes, env, slotOf);
        if (typeof emit === "function") {
          const name = `${n.op}_${i}`;
          kernels.push({ name, emit });
          planned.push({ step: s, code: { kernel: name } });
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

    const entries = engine && kernels.length ? compileKernels(engine.heap.memory, kernels) : new Map<string, () => void>();
    const run = planned.map((p) => {
      const code = typeof p.code === "function" ? p.code : entries.get(p.code.kernel)!;
      return this.onStep ? this.timed(code, p, shapes) : code;
    });
    const plan: Plan = { env, shapes, buffers, run, bytes, wasmSteps, ...(slots ? { slots } : {}) };
    if (slots) this.refreshViews(plan);
    return plan;
  }
}
