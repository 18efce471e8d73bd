// An executable CPU program: steps bound to buffers.
//
// For each set of symbolic sizes (a batch size) the program is planned once:
// every materialized node gets a buffer, reused between nodes whose lifetimes
// do not overlap, and every fused step gets its prepared loop. Running a step
// then allocates nothing. Outputs are views of the plan's buffers, valid until
// the next run with the same sizes.
//
// In float32 the products (matmul, the convolutions) run on the WebAssembly
// SIMD GEMM where the host has it (wasm/): each is prepared with the plan, and
// the plan reserves the heap for the largest once. The float64 reference
// evaluator keeps the JavaScript GEMM, so the tests compare two
// implementations.

import { evalShape, type DimEnv } from "../program/dim.js";
import type { CpuProgram } from "../program/program.js";
import { prepareFused, type FusedCompiler, type FusedRunner } from "./fused.js";
import { bindDims, RunError } from "./bind.js";
import { KERNELS } from "./kernels/index.js";
import type { Kernel } from "./kernels/types.js";
import { size, type Data, type NDArray, type Precision } from "./ndarray.js";
import { createProducts, type GemmChoice, type Products } from "./wasm/engine.js";
import { isProductOp, WASM_PRODUCTS } from "./wasm/index.js";
import type { Prepare } from "./wasm/products.js";

interface Plan {
  readonly env: DimEnv;
  readonly shapes: readonly (readonly number[])[];
  /** Buffer of each node, shared by aliases (reshapes) and by nodes with disjoint lifetimes. */
  readonly buffers: (Data | undefined)[];
  readonly run: (() => void)[];
  /** Bytes of buffers the plan allocated (the products' WebAssembly heap apart). */
  readonly bytes: number;
}

export interface CpuExecutableOptions {
  /** Compiles a fused group into a runner: the block interpreter today, WebAssembly SIMD tomorrow. */
  readonly fuse?: FusedCompiler;
  /** What runs the products in float32: an engine shared with other executables, or which GEMM to create ("wasm" by default). */
  readonly products?: Products | GemmChoice;
}

function productsFor(program: CpuProgram, precision: Precision, choice: Products | GemmChoice): Products {
  if (precision === "f64") return { kind: "js", reason: "the float64 reference evaluator computes in JavaScript" };
  if (typeof choice === "object") return choice;
  if (!program.graph.nodes.some((n) => isProductOp(n.op))) return { kind: "js", reason: "the program has no products" };
  return createProducts(choice);
}

export class CpuExecutable {
  private readonly plans = new Map<string, Plan>();
  private readonly inputOf: Map<number, string>;
  private readonly fuse: FusedCompiler;
  /** What runs the products: the wasm engine, or the JavaScript GEMM and why (always so in float64). */
  readonly products: Products;

  constructor(
    readonly program: CpuProgram,
    readonly precision: Precision = "f32",
    options: CpuExecutableOptions = {},
  ) {
    this.inputOf = new Map(program.graph.inputs.map((b) => [b.node, b.name]));
    this.fuse = options.fuse ?? prepareFused;
    this.products = productsFor(program, precision, options.products ?? "wasm");
  }

  run(feeds: ReadonlyMap<string, NDArray>, params: ReadonlyMap<string, NDArray>): Map<string, NDArray> {
    const env = bindDims(this.program.graph, feeds);
    const key = JSON.stringify(env);
    let plan = this.plans.get(key);
    if (!plan) this.plans.set(key, (plan = this.plan(env)));
    const { nodes } = this.program.graph;
    // Sources are read in place when their arrays already have the type the plan computes in.
    nodes.forEach((n, i) => {
      if (n.op !== "input" && n.op !== "param") return;
      const name = n.op === "param" ? n.attrs.name : this.inputOf.get(i)!;
      const given = n.op === "param" ? params.get(name) : feeds.get(name);
      if (!given) throw new RunError(`${n.op} '${name}' was not given`);
      if (size(given.shape) !== size(plan!.shapes[i]!)) throw new RunError(`${n.op} '${name}' has shape [${given.shape.join(", ")}], expected [${plan!.shapes[i]!.join(", ")}]`);
      plan!.buffers[i] = this.typed(given.data, n.dtype, plan!.buffers[i]);
    });
    for (const step of plan.run) step();
    return new Map(this.program.graph.outputs.map((o) => [o.name, { shape: plan!.shapes[o.node]!, data: plan!.buffers[o.node]! }]));
  }

  /** Peak bytes of intermediate buffers for the given sizes (planning them if needed). */
  bytesFor(env: DimEnv): number {
    const key = JSON.stringify(env);
    let plan = this.plans.get(key);
    if (!plan) this.plans.set(key, (plan = this.plan(env)));
    return plan.bytes;
  }

  private typed(data: Data, dtype: "f32" | "i32", previous: Data | undefined): Data {
    const want = dtype === "i32" ? Int32Array : this.precision === "f64" ? Float64Array : Float32Array;
    if (data instanceof want) return data;
    const out = previous instanceof want && previous.length === data.length ? previous : new want(data.length);
    out.set(data);
    return out;
  }

  private plan(env: DimEnv): Plan {
    const { nodes, outputs } = this.program.graph;
    const steps = this.program.steps;
    const shapes = nodes.map((n) => evalShape(n.shape, env));
    const buffers: (Data | undefined)[] = new Array(nodes.length);

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

    // Allocate at first write, release after last read; a released buffer of the same length and type is reused.
    const free = new Map<string, Data[]>();
    const release = new Map<number, number[]>();
    for (const [b, k] of lastUse) if (k !== Infinity) release.set(k, [...(release.get(k) ?? []), b]);
    let bytes = 0;
    let heapBytes = 0;
    const run: (() => void)[] = [];
    steps.forEach((s, k) => {
      const i = s.node;
      const n = nodes[i]!;
      if (s.kind === "alias") {
        run.push(() => (buffers[i] = buffers[home[i]!]));
      } else {
        const len = size(shapes[i]!);
        const key = `${n.dtype}:${len}`;
        const reuse = free.get(key)?.pop();
        const buf = reuse ?? (n.dtype === "i32" ? new Int32Array(len) : this.precision === "f64" ? new Float64Array(len) : new Float32Array(len));
        if (!reuse) bytes += buf.byteLength;
        buffers[i] = buf;
        if (s.kind === "fused") {
          const loop: FusedRunner = this.fuse(nodes, s.members, i, shapes, env, this.precision);
          run.push(() => loop(buffers));
        } else if (this.products.kind === "wasm" && isProductOp(n.op)) {
          const [a, b] = n.inputs as [number, number];
          const product = (WASM_PRODUCTS[n.op] as Prepare<typeof n.op>)(this.products.engine, shapes[i]!, [shapes[a]!, shapes[b]!], n.attrs as never);
          heapBytes = Math.max(heapBytes, product.bytes);
          const out = buf as Float32Array;
          run.push(() => product.run(out, buffers[a] as Float32Array, buffers[b] as Float32Array));
        } else {
          const kernel = KERNELS[n.op];
          if (typeof kernel !== "function") throw new Error(`internal: ${n.op} has no kernel`);
          const out = { shape: shapes[i]!, data: buf };
          const inputs = n.inputs.map((j) => ({ shape: shapes[j]!, get data() { return buffers[j]!; } }));
          run.push(() => (kernel as Kernel<typeof n.op>)(out, inputs, n.attrs as never, env));
        }
      }
      for (const b of release.get(k) ?? []) {
        const buf = buffers[b];
        if (!buf || nodes[b]!.op === "input" || nodes[b]!.op === "param") continue;
        const key = `${nodes[b]!.dtype}:${buf.length}`;
        free.set(key, [...(free.get(key) ?? []), buf]);
      }
    });
    if (this.products.kind === "wasm") this.products.engine.heap.reserve(heapBytes);
    return { env, shapes, buffers, run, bytes };
  }
}
