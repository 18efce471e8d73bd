// What a profile says about a kernel, whichever backend ran it: a name that
// says what ran ("matmul 128x784x256", "fused[relu,add] 128x256"), the ops it
// computes, the graph nodes behind it, and the bytes of the buffers it reads
// and writes per call at the run's sizes. A kernel is a CPU plan's run (one
// step, or a row chain of steps) or a WGSL kernel of a WebGPU program.
//
// FLOPs are attributed per node (cost.ts): a value that fusion recomputes in
// several kernels (a cheap prologue such as pixels / 255) counts once, in the
// first kernel that computes it, so that a step's kernels add up to the
// program's FLOPs.

import { nodeFlops } from "../program/cost.js";
import { evalDim, type DimEnv } from "../program/dim.js";
import type { GpuProgram } from "../program/gpu.js";
import { OP_FAMILY } from "../program/ops.js";
import type { CpuProgram, GraphProgram, Step } from "../program/program.js";

export interface KernelCost {
  /** What ran, e.g. "matmul 128x784x256", "matmul+add+relu 128x784x256", "fused[relu,add] 128x256", "rows[fused[max,sub] sum] 128x10". */
  readonly name: string;
  /** The ops it computes, in graph order (sources and views left out). */
  readonly ops: readonly string[];
  /** The graph nodes it computes. */
  readonly nodes: readonly number[];
  /** Bytes of the buffers it reads and writes in one call. */
  readonly bytes: number;
  /** On the CPU, where it ran: WebAssembly (a kernel or product) or JavaScript. */
  readonly engine?: "wasm" | "js";
}

/** Ops that compute nothing: sources and views. */
const NOT_COMPUTED: ReadonlySet<string> = new Set(["input", "param", "const", "reshape", "broadcast", "stopGradient"]);

/** An anchor names a kernel: the op that does the work its fused ops wrap. */
const ANCHORS: ReadonlySet<string> = new Set(["contraction", "window", "gather", "scan"]);

const dims = (shape: readonly number[]) => (shape.length ? shape.join("x") : "scalar");

function opsOf(graph: GraphProgram, nodes: readonly number[]): string[] {
  const sorted = [...nodes].sort((a, b) => a - b);
  const ops = [...new Set(sorted.map((i) => graph.nodes[i]!.op).filter((op) => !NOT_COMPUTED.has(op)))];
  return ops.length ? ops : [...new Set(sorted.map((i) => graph.nodes[i]!.op))];
}

/** A kernel's name without its sizes, and its sizes: a matmul's M x K x N, else the output's shape. */
function title(graph: GraphProgram, shapes: readonly (readonly number[])[], nodes: readonly number[], out: number, fused: boolean): [string, string] {
  const ops = opsOf(graph, nodes);
  const anchor = [...nodes].sort((a, b) => a - b).find((i) => ANCHORS.has(OP_FAMILY[graph.nodes[i]!.op]));
  if (anchor !== undefined) {
    const n = graph.nodes[anchor]!;
    const rest = ops.filter((op) => op !== n.op);
    let size = dims(shapes[anchor]!);
    if (n.op === "matmul") {
      const a = shapes[n.inputs[0]!]!;
      const y = shapes[anchor]!;
      const k = n.attrs.transA ? a[a.length - 2]! : a[a.length - 1]!;
      size = dims([...y.slice(0, -1), k, y[y.length - 1]!]);
    }
    return [[n.op, ...rest].join("+"), size];
  }
  return [fused || ops.length > 1 ? `fused[${ops.join(",")}]` : ops[0]!, dims(shapes[out]!)];
}

/** The name of a kernel computing `nodes` and writing `out` (a CPU step, a WGSL kernel). */
export function kernelName(graph: GraphProgram, shapes: readonly (readonly number[])[], nodes: readonly number[], out: number, fused = false): string {
  return title(graph, shapes, nodes, out, fused).join(" ");
}

const stepNodes = (s: Step): readonly number[] => (s.kind === "fused" ? s.members : s.kind === "kernel" ? [s.node] : []);

/** The name of a CPU run: one step's, or a row chain's ("rows[fused[max,sub] sum] 128x10"). */
export function runName(graph: GraphProgram, shapes: readonly (readonly number[])[], steps: readonly Step[]): string {
  const named = steps.map((s) => title(graph, shapes, stepNodes(s), s.node, s.kind === "fused"));
  return steps.length === 1 ? named[0]!.join(" ") : `rows[${named.map(([t]) => t).join(" ")}] ${dims(shapes[steps[0]!.node]!)}`;
}

const bytesOf = (shape: readonly number[]) => 4 * shape.reduce((a, b) => a * b, 1);

/** A CPU run (one step, or a row chain's steps): every step reads its inputs' buffers (aliases resolved) and writes its own. */
export function cpuKernel(program: CpuProgram, shapes: readonly (readonly number[])[], steps: readonly Step[]): KernelCost {
  const { nodes } = program.graph;
  const home = new Map<number, number>();
  for (const s of program.steps) if (s.kind === "alias") home.set(s.node, home.get(nodes[s.node]!.inputs[0]!) ?? nodes[s.node]!.inputs[0]!);
  let bytes = 0;
  for (const s of steps) {
    const members = stepNodes(s);
    const reads = new Set(members.flatMap((m) => nodes[m]!.inputs).filter((i) => !members.includes(i)).map((i) => home.get(i) ?? i));
    for (const b of reads) bytes += bytesOf(shapes[b]!);
    bytes += bytesOf(shapes[s.node]!);
  }
  const computed = steps.flatMap(stepNodes);
  return { name: runName(program.graph, shapes, steps), ops: opsOf(program.graph, computed), nodes: computed, bytes };
}

/**
 * WGSL kernel `k` of a program: it computes the nodes it writes and, inline,
 * every value they need that has no buffer (views resolve to buffers); it
 * moves the bytes of its bindings.
 */
export function gpuKernel(program: GpuProgram, k: number, shapes: readonly (readonly number[])[], env: DimEnv): KernelCost {
  const { graph } = program;
  const kernel = program.kernels[k]!;
  const buffered = new Set([...program.buffers, ...program.views.map((v) => v.node)]);
  const written = kernel.bindings.filter((b) => b.write).map((b) => b.node);
  const computed = new Set<number>();
  const stack = [...written];
  while (stack.length) {
    const n = stack.pop()!;
    if (computed.has(n)) continue;
    computed.add(n);
    for (const i of graph.nodes[n]!.inputs) if (!buffered.has(i)) stack.push(i);
  }
  const nodes = [...computed].sort((a, b) => a - b);
  const out = written[0] ?? nodes[nodes.length - 1]!;
  const bytes = kernel.bytes.reduce<number>((a, d) => a + evalDim(d, env), 0);
  return { name: kernelName(graph, shapes, nodes, out, nodes.length > 1), ops: opsOf(graph, nodes), nodes, bytes };
}

/** FLOPs per call of each kernel, in the order they run: each node's counted in the first kernel that computes it. */
export function kernelFlops(graph: GraphProgram, env: DimEnv, kernels: readonly KernelCost[]): number[] {
  const perNode = nodeFlops(graph, env);
  const counted = new Set<number>();
  return kernels.map((k) => {
    let total = 0;
    for (const n of k.nodes) {
      if (counted.has(n)) continue;
      counted.add(n);
      total += perNode[n]!;
    }
    return total;
  });
}
