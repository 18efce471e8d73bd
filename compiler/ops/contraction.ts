// Contractions: matmul and 2-D convolution (NHWC input, HWIO kernel), with the
// two convolution gradients as primitives of their own (type rules:
// runtime/program/shapes/contraction.ts). All three convolution
// primitives are bilinear and each one's VJP is made of the other two, so
// convolutions differentiate any number of times.

import { make } from "./make.js";
import { matmul } from "./build.js";
import type { OpTable } from "./types.js";

export const CONTRACTIONS: OpTable<"matmul" | "conv2d" | "conv2dInputGrad" | "conv2dFilterGrad"> = {
  matmul: {
    // With C = op(A) op(B): d op(A) = G op(B)ᵀ and d op(B) = op(A)ᵀ G, each
    // written back in the operand's stored layout without a transpose node.
    vjp: (node, g) => {
      const [a, b] = node.inputs as [typeof node.inputs[0], typeof node.inputs[0]];
      const { transA, transB } = node.attrs;
      const da = transA ? matmul(b!, g, transB, true) : matmul(g, b!, false, !transB);
      const db = transB ? matmul(g, a!, true, transA) : matmul(a!, g, !transA, false);
      return [da, db];
    },
  },
  conv2d: {
    vjp: (node, g) => {
      const [x, k] = node.inputs;
      const { stride, pad } = node.attrs;
      return [
        make("conv2dInputGrad", [g, k!], { stride, pad, inputSize: [x!.shape[1] as number, x!.shape[2] as number] }),
        make("conv2dFilterGrad", [x!, g], { stride, pad, kernelSize: [k!.shape[0] as number, k!.shape[1] as number] }),
      ];
    },
  },
  conv2dInputGrad: {
    vjp: (node, g) => {
      const [dy, k] = node.inputs;
      const { stride, pad } = node.attrs;
      return [
        make("conv2d", [g, k!], { stride, pad }),
        make("conv2dFilterGrad", [g, dy!], { stride, pad, kernelSize: [k!.shape[0] as number, k!.shape[1] as number] }),
      ];
    },
  },
  conv2dFilterGrad: {
    vjp: (node, g) => {
      const [x, dy] = node.inputs;
      const { stride, pad } = node.attrs;
      return [
        make("conv2dInputGrad", [dy!, g], { stride, pad, inputSize: [x!.shape[1] as number, x!.shape[2] as number] }),
        make("conv2d", [x!, g], { stride, pad }),
      ];
    },
  },
};
