// Arithmetic cost of a program: floating-point operations per node at given
// sizes (a multiply-add counts two). Used by `dlc inspect`, `dlc profile`
// (per kernel, from the nodes it computes) and the benchmarks.

import { evalShape, type DimEnv } from "./dim.js";
import type { GraphProgram } from "./program.js";

/** The floating-point operations of the whole graph at these sizes. */
export function flops(graph: GraphProgram, env: DimEnv): number {
  return nodeFlops(graph, env).reduce((a, b) => a + b, 0);
}

/** The floating-point operations of each node at these sizes. */
export function nodeFlops(graph: GraphProgram, env: DimEnv): number[] {
  const shapes = graph.nodes.map((n) => evalShape(n.shape, env));
  const size = (i: number) => shapes[i]!.reduce((a, b) => a * b, 1);
  return graph.nodes.map((n, i) => {
    switch (n.op) {
      case "matmul": {
        const a = shapes[n.inputs[0]!]!;
        const k = n.attrs.transA ? a[a.length - 2]! : a[a.length - 1]!;
        return 2 * size(i) * k;
      }
      case "conv2d":
      case "conv2dInputGrad":
      case "conv2dFilterGrad": {
        // Every output of conv2d is a dot product over kh * kw * in; the gradients do the same work.
        const k = shapes[n.op === "conv2dFilterGrad" ? i : n.inputs[1]!]!;
        const y = n.op === "conv2d" ? size(i) : size(n.op === "conv2dInputGrad" ? n.inputs[0]! : n.inputs[1]!);
        return 2 * y * k[0]! * k[1]! * k[2]!;
      }
      case "maxPool2d":
      case "avgPool2d":
      case "maxPool2dGrad":
      case "avgPool2dGrad":
        return size(i) * n.attrs.size[0] * n.attrs.size[1];
      case "gather":
        return 0;
      case "scatterAdd":
      case "sum":
      case "max":
      case "argmax":
        return size(n.inputs[0]!);
      case "input":
      case "param":
      case "const":
      case "iota":
      case "reshape":
      case "broadcast":
      case "transpose":
      case "slice":
      case "pad":
      case "stopGradient":
        return 0;
      default:
        return size(i);
    }
  });
}
