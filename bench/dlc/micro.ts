// The fusion micro-benchmarks, as dlc graphs: each workload compiled fused
// and unfused, for WebGPU and for the CPU interpreter, with what each
// execution dispatches, moves and computes.

import { lowerCpu } from "../../compiler/codegen/cpu.js";
import { lowerGpu } from "../../compiler/codegen/wgsl/program.js";
import type { Graph, Node } from "../../compiler/ir/node.js";
import { full } from "../../compiler/ops/build.js";
import * as ops from "../../compiler/ops/composite.js";
import { make } from "../../compiler/ops/make.js";
import { CpuExecutable } from "../../runtime/cpu/executable.js";
import { createProducts } from "../../runtime/cpu/wasm/engine.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { evalDim } from "../../runtime/program/dim.js";
import { flops } from "../../runtime/program/cost.js";
import { Random } from "../../runtime/random.js";
import { wasmFeatures } from "../../runtime/wasm/features.js";
import type { GpuContext } from "../../runtime/webgpu/device.js";
import { GpuExecutable } from "../../runtime/webgpu/executable.js";

export type Micro = "gelu" | "softmax" | "layernorm" | "matmul" | "matmul-bias-relu" | "adam";
export const MICROS: readonly Micro[] = ["gelu", "softmax", "layernorm", "matmul", "matmul-bias-relu", "adam"];

export interface Runner {
  run(): Promise<void>;
  dispose(): void;
}

export interface DlcMicro extends Runner {
  /** Kernel dispatches (WebGPU) or steps (CPU) per execution. */
  readonly dispatches: number;
  /** Bytes read and written per execution, counted from the kernels' bindings (WebGPU) or buffers (CPU). */
  readonly bytes: number;
  readonly flops: number;
  /** Why it runs on one thread although more were asked for (the host has no shared memory or workers). */
  readonly oneThread?: string;
}

const input = (name: string, shape: number[]) => make("input", [], { name, shape, dtype: "f32" });

/** The workload's graph and its inputs' shapes. */
export function microGraph(kind: Micro): Graph {
  const g = (inputs: Node[], outputs: Record<string, Node>): Graph => ({ name: kind, inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });
  switch (kind) {
    case "gelu": {
      const x = input("x", [4_194_304]);
      return g([x], { y: ops.gelu(x) });
    }
    case "softmax": {
      const x = input("x", [4096, 1024]);
      return g([x], { y: ops.softmax(x) });
    }
    case "layernorm": {
      const x = input("x", [4096, 1024]);
      return g([x], { y: ops.layerNorm(x, 1e-5) });
    }
    case "matmul": {
      const a = input("a", [1024, 1024]);
      const b = input("b", [1024, 1024]);
      return g([a, b], { y: ops.matmul(a, b) });
    }
    case "matmul-bias-relu": {
      const a = input("a", [1024, 1024]);
      const b = input("b", [1024, 1024]);
      const bias = input("bias", [1024]);
      return g([a, b, bias], { y: ops.relu(ops.binaryOp("add", ops.matmul(a, b), bias)) });
    }
    case "adam": {
      const n = 1_048_576;
      const [p, grad, m, v] = ["p", "g", "m", "v"].map((name) => input(name, [n])) as [Node, Node, Node, Node];
      const lr = input("lr", []);
      const t = input("t", []);
      const m2 = ops.binaryOp("add", ops.binaryOp("mul", m, 0.9), ops.binaryOp("mul", grad, 0.1));
      const v2 = ops.binaryOp("add", ops.binaryOp("mul", v, 0.999), ops.binaryOp("mul", ops.binaryOp("mul", grad, grad), 0.001));
      const mhat = ops.binaryOp("div", m2, ops.binaryOp("sub", 1, ops.binaryOp("pow", full(0.9, []), t)));
      const vhat = ops.binaryOp("div", v2, ops.binaryOp("sub", 1, ops.binaryOp("pow", full(0.999, []), t)));
      const p2 = ops.binaryOp("sub", p, ops.binaryOp("mul", lr, ops.binaryOp("div", mhat, ops.binaryOp("add", ops.unaryOp("sqrt", vhat), 1e-8))));
      return g([p, grad, m, v, lr, t], { p: p2, m: m2, v: v2 });
    }
  }
}

function randomInputs(g: Graph): Map<string, NDArray> {
  const rng = new Random(7, 1);
  return new Map(
    g.inputs.map((i) => {
      const shape = i.shape.map(Number);
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      for (let k = 0; k < n; k++) data[k] = i.attrs.name === "t" ? 3 : i.attrs.name === "lr" ? 1e-3 : i.attrs.name === "v" ? rng.uniform() : rng.uniform() * 2 - 1;
      return [i.attrs.name, { shape, data }];
    }),
  );
}

/** dlc on WebGPU: inputs uploaded once; run() dispatches the program and waits for the queue. */
export async function dlcGpuMicro(ctx: GpuContext, kind: Micro, fusion: boolean): Promise<DlcMicro> {
  const g = microGraph(kind);
  const program = lowerGpu(g, { fusion });
  const exe = await GpuExecutable.create(ctx, program);
  const feeds = randomInputs(g);
  const plan = exe.plan({});
  for (const { name, node } of program.graph.inputs) exe.upload(plan, node, feeds.get(name)!.data);
  await exe.prepare(plan);
  const bytes = program.kernels.reduce((acc, k) => acc + k.bytes.reduce<number>((a, d) => a + evalDim(d, {}), 0), 0);
  return {
    dispatches: program.kernels.length,
    bytes,
    flops: flops(program.graph, {}),
    async run() {
      const encoder = ctx.device.createCommandEncoder();
      exe.encode(encoder, plan);
      ctx.device.queue.submit([encoder.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
    },
    dispose() {},
  };
}

/**
 * dlc on the CPU in float32: WebAssembly (the `cpu` backend) on `threads`
 * threads, or the JavaScript reference interpreter (`cpu-js`). Inputs stay
 * resident in the executable's heap, as the peers' stay on their backends.
 */
export function dlcCpuMicro(kind: Micro, fusion: boolean, engine: "wasm" | "js" = "wasm", threads = 1): DlcMicro {
  const g = microGraph(kind);
  const program = lowerCpu(g, { fusion });
  // One thread: the executable makes (and keeps) its own engine; more: a threaded engine, whose workers dispose() ends.
  const products = engine === "wasm" && threads > 1 ? createProducts("wasm", wasmFeatures(), threads) : engine;
  const exe = new CpuExecutable(program, "f32", { products });
  const feeds = randomInputs(g);
  // Plans the heap and copies the inputs into their slots once; running on these views skips the copy.
  const resident = exe.sourceViews(feeds);
  const shapes = program.graph.nodes.map((n) => n.shape.map((d) => evalDim(d, {})));
  // Every step reads its inputs and writes its output once.
  const size = (i: number) => shapes[i]!.reduce((a, b) => a * b, 1) * 4;
  const bytes = program.steps.reduce((acc, s) => {
    const nodes = program.graph.nodes;
    const reads = s.kind === "fused" ? [...new Set(s.members.flatMap((m) => nodes[m]!.inputs).filter((i) => !s.members.includes(i)))] : nodes[s.node]!.inputs;
    return s.kind === "alias" ? acc : acc + size(s.node) + reads.reduce((a, i) => a + size(i), 0);
  }, 0);
  const oneThread = exe.products.kind === "wasm" ? exe.products.engine.oneThread : undefined;
  return {
    dispatches: program.steps.filter((s) => s.kind !== "alias").length,
    bytes,
    flops: flops(program.graph, {}),
    ...(oneThread ? { oneThread } : {}),
    async run() {
      exe.run(resident, new Map());
    },
    dispose() {
      if (typeof products === "object" && products.kind === "wasm") products.engine.gemm.dispose();
    },
  };
}

/**
 * One memory pass of a workload, the floor its fused kernels are measured
 * against: a copy (TypedArray.set, one thread) moving as many bytes as the
 * workload's inputs and outputs, each read or written once.
 */
export function memoryPass(kind: Micro): DlcMicro {
  const g = microGraph(kind);
  const elements = (shape: readonly (number | unknown)[]) => shape.reduce<number>((a, d) => a * Number(d), 1);
  const bytes = 4 * [...g.inputs.map((i) => elements(i.shape)), ...g.outputs.map((o) => elements(o.node.shape))].reduce((a, b) => a + b, 0);
  // A copy of n floats reads n and writes n.
  const n = Math.ceil(bytes / 8);
  const from = new Float32Array(n).fill(1);
  const to = new Float32Array(n);
  return {
    dispatches: 1,
    bytes: 8 * n,
    flops: 0,
    async run() {
      to.set(from);
    },
    dispose() {},
  };
}
