// A graph as a WebGPU program: the fusion partition, one WGSL kernel per
// group, and the buffers they share.

import { symbolsOf } from "../../../runtime/program/dim.js";
import type { GpuKernel, GpuProgram } from "../../../runtime/program/gpu.js";
import { partition, resolveView, type KernelGroup, type Partition } from "../../fusion/kernels.js";
import { graphNodes } from "../../ir/graph.js";
import { toProgram } from "../../ir/lower.js";
import type { Graph, Node, NodeOf } from "../../ir/node.js";
import { convKernel } from "./conv.js";
import type { KernelEnv } from "./kernel.js";
import { matmulKernel } from "./matmul.js";
import { pointwiseKernel } from "./pointwise.js";
import { poolKernel } from "./pool.js";
import { rowKernel } from "./row.js";

export interface GpuOptions {
  readonly fusion?: boolean;
}

function kernelFor(env: KernelEnv, g: KernelGroup, i: number): GpuKernel {
  const name = `k${i}_${g.kind}${g.anchor ? `_${g.anchor.op}` : ""}`;
  switch (g.kind) {
    case "pointwise":
      return pointwiseKernel(env, name, g.outputs);
    case "row":
      return rowKernel(env, name, g.row!, g.reductions, g.outputs);
    case "contraction":
      return g.anchor!.op === "matmul" ? matmulKernel(env, name, g.anchor as NodeOf<"matmul">, g.outputs) : convKernel(env, name, g.anchor as never, g.outputs);
    case "window":
      return poolKernel(env, name, g.anchor as never, g.outputs);
  }
}

/** `part` is the graph's fusion plan, when the caller has it already. */
export function lowerGpu(g: Graph, options: GpuOptions = {}, part: Partition = partition(g, options)): GpuProgram {
  const graph = toProgram(g);
  const nodes = graphNodes(g);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const views: { node: number; of: number }[] = [];
  const buffers: number[] = [];
  for (const n of nodes) {
    if (!part.materialized.has(n)) continue;
    const of = resolveView(n, part.materialized);
    if (of !== n) views.push({ node: index.get(n)!, of: index.get(of)! });
    else buffers.push(index.get(n)!);
  }
  const env: KernelEnv = {
    index,
    bufferOf: (n: Node) => (part.materialized.has(n) || isViewOfBuffer(n, part.materialized) ? resolveView(n, part.materialized) : undefined),
    symbols: symbolsOf(nodes.flatMap((n) => n.shape)),
  };
  const kernels = part.kernels.map((k, i) => kernelFor(env, k, i));
  return { graph, symbols: env.symbols, buffers, views, kernels };
}

function isViewOfBuffer(n: Node, m: ReadonlySet<Node>): boolean {
  return (n.op === "reshape" || n.op === "stopGradient") && (m.has(n.inputs[0]!) || isViewOfBuffer(n.inputs[0]!, m));
}
