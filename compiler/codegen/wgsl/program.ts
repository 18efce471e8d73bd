// A graph as a WebGPU program: the fusion partition, one WGSL kernel per
// group, and the buffers they share.

import { symbolsOf } from "../../../runtime/program/dim.js";
import type { GpuKernel, GpuProgram, WorkgroupTile } from "../../../runtime/program/gpu.js";
import { anchorOf, partition, resolveView, type KernelGroup, type Partition } from "../../fusion/kernels.js";
import { inputAt, lookup } from "../../ir/checked.js";
import { graphNodes } from "../../ir/graph.js";
import { toProgram } from "../../ir/lower.js";
import type { Graph, Node } from "../../ir/node.js";
import { convKernel } from "./conv.js";
import { hardwareVariants } from "./hardware.js";
import { indexedKernel } from "./indexed.js";
import type { KernelEnv } from "./kernel.js";
import { matmulKernel } from "./matmul.js";
import { pointwiseKernel } from "./pointwise.js";
import { poolKernel } from "./pool.js";
import { rowKernel } from "./row.js";

export interface GpuOptions {
  readonly fusion?: boolean;
  /** Emit the hardware family's variants of the contractions (default true; false: the software family alone). */
  readonly hardware?: boolean;
  /** The hardware variants' tiles, instead of those the cost model finds worth having (tests, benchmarks). */
  readonly tiles?: readonly WorkgroupTile[];
}

function kernelFor(env: KernelEnv, g: KernelGroup, i: number, options: GpuOptions): GpuKernel {
  const anchor = anchorOf(g);
  const name = `k${i}_${g.kind}${anchor ? `_${anchor.op}` : ""}`;
  switch (g.kind) {
    case "pointwise":
      return pointwiseKernel(env, name, g.outputs);
    case "row":
      return rowKernel(env, name, g.row, g.reductions, g.outputs);
    case "contraction": {
      const kernel = g.anchor.op === "matmul" ? matmulKernel(env, name, g.anchor, g.outputs) : convKernel(env, name, g.anchor, g.outputs);
      return options.hardware !== false ? { ...kernel, variants: hardwareVariants(env, name, g.anchor, g.outputs, options.tiles) } : kernel;
    }
    case "window":
      return poolKernel(env, name, g.anchor, g.outputs);
    case "indexed":
      return indexedKernel(env, name, g.anchor, g.outputs);
  }
}

/** `part` is the graph's fusion plan, when the caller has it already. */
export function lowerGpu(g: Graph, options: GpuOptions = {}, part: Partition = partition(g, options)): GpuProgram {
  const graph = toProgram(g);
  const nodes = graphNodes(g);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const views: { node: number; of: number }[] = [];
  const buffers: number[] = [];
  const at = (m: Node) => lookup(index, m, "the node index");
  for (const n of nodes) {
    if (!part.materialized.has(n)) continue;
    const of = resolveView(n, part.materialized);
    if (of !== n) views.push({ node: at(n), of: at(of) });
    else buffers.push(at(n));
  }
  const env: KernelEnv = {
    index,
    bufferOf: (n: Node) => (part.materialized.has(n) || isViewOfBuffer(n, part.materialized) ? resolveView(n, part.materialized) : undefined),
    symbols: symbolsOf(nodes.flatMap((n) => n.shape)),
  };
  const kernels = part.kernels.map((k, i) => kernelFor(env, k, i, options));
  return { graph, symbols: env.symbols, buffers, views, kernels };
}

/** Whether n is a chain of views (reshapes) ending at a buffer. */
function isViewOfBuffer(n: Node, m: ReadonlySet<Node>): boolean {
  for (let v = n; v.op === "reshape" || v.op === "stopGradient"; v = inputAt(v, 0)) if (m.has(inputAt(v, 0))) return true;
  return false;
}
