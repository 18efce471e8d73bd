// Contractions: matmul and 2-D convolution (NHWC input, HWIO kernel), with the
// two convolution gradients as primitives of their own (type rules:
// runtime/program/shapes/contraction.ts). All three convolution
// primitives are bilinear and each one's VJP is made of the other two (with
// the same stride, padding, dilation and groups), so convolutions
// differentiate any number of times.

import type { ConvAttrs, Pair } from "../../runtime/program/ops.js";
import type { Node } from "../ir/node.js";
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
      const conv = convAttrs(node.attrs);
      return [
        make("conv2dInputGrad", [g, k!], { ...conv, inputSize: spatialSize(x!) }),
        make("conv2dFilterGrad", [x!, g], { ...conv, kernelSize: kernelSize(k!) }),
      ];
    },
  },
  conv2dInputGrad: {
    vjp: (node, g) => {
      const [dy, k] = node.inputs;
      const conv = convAttrs(node.attrs);
      return [make("conv2d", [g, k!], conv), make("conv2dFilterGrad", [g, dy!], { ...conv, kernelSize: kernelSize(k!) })];
    },
  },
  conv2dFilterGrad: {
    vjp: (node, g) => {
      const [x, dy] = node.inputs;
      const conv = convAttrs(node.attrs);
      return [make("conv2dInputGrad", [dy!, g], { ...conv, inputSize: spatialSize(x!) }), make("conv2d", [x!, g], conv)];
    },
  },
};

/** The geometry the three convolutions share (a gradient's own size attribute left out). */
function convAttrs({ stride, pad, dilation, groups }: ConvAttrs): ConvAttrs {
  return { stride, pad, dilation, groups };
}

const spatialSize = (x: Node): Pair => [x.shape[1] as number, x.shape[2] as number];
const kernelSize = (k: Node): Pair => [k.shape[0] as number, k.shape[1] as number];
