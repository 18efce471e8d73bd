// Arithmetic cost of a program: floating-point operations per node at given
// sizes (a multiply-add counts two). Used by `dlc inspect` and the benchmarks.

import { evalShape, type DimEnv } from "./dim.js";
import type { GraphProgram } from "./program.js";

export function flops(graph: GraphProgram, env: DimEnv): number {
  const shapes = graph.nodes.map((n) => evalShape(n.shape, env));
  const size = (i: number) => shapes[i]!.reduce((a, b) => a * b, 1);
  let total = 0;
  graph.nodes.forEach((n, i) => {
    switch (n.op) {
      case "matmul": {
        const a = shapes[n.inputs[0]!]!;
        const k = n.attrs.transA ? a[a.length - 2]! : a[a.length - 1]!;
        total += 2 * size(i) * k;
        break;
      }
      case "conv2d":
      case "conv2dInputGrad":
      case "conv2dFilterGrad": {
        // Every output of conv2d is a dot product over kh * kw * in; the gradients do the same work.
        const k = shapes[n.op === "conv2dFilterGrad" ? i : n.inputs[1]!]!;
        const y = n.op === "conv2d" ? size(i) : size(n.op === "conv2dInputGrad" ? n.inputs[0]! : n.inputs[1]!);
        total += 2 * y * k[0]! * k[1]! * k[2]!;
        break;
      }
      case "maxPool2d":
      case "avgPool2d":
      case "maxPool2dGrad":
      case "avgPool2dGrad":
        total += size(i) * n.attrs.size[0] * n.attrs.size[1];
        break;
      case "gather":
        break;
      case "scatterAdd":
        total += size(n.inputs[0]!);
        break;
      case "sum":
      case "max":
      case "argmax":
        total += size(n.inputs[0]!);
        break;
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
        break;
      default:
        total += size(i);
    }
  });
  return total;
}
