// Contractions: matmul and 2-D convolution (NHWC input, HWIO kernel), with the
// two convolution gradients as primitives of their own. All three convolution
// primitives are bilinear and each one's VJP is made of the other two, so
// convolutions differentiate any number of times.

import { dimEq, formatShape } from "../../runtime/program/dim.js";
import type { TensorType } from "../ir/node.js";
import { make } from "./make.js";
import { matmul } from "./build.js";
import { ShapeError, type OpTable } from "./types.js";
import { checkGradSize, nhwc, windowOutput } from "./window.js";

function matmulType(a: TensorType, b: TensorType, transA: boolean, transB: boolean): TensorType {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const show = `${formatShape(a.shape)}${transA ? "ᵀ" : ""} @ ${formatShape(b.shape)}${transB ? "ᵀ" : ""}`;
  if (a.dtype !== "f32" || b.dtype !== "f32") throw new ShapeError(`matmul needs f32 operands, got ${a.dtype} and ${b.dtype}`, 'cast(x, "f32") converts');
  if (ra < 2 || ra !== rb) throw new ShapeError(`matmul: operand ranks differ or are below 2: ${show}`, "the frontend broadcasts batch axes; primitives need equal ranks");
  for (let i = 0; i < ra - 2; i++) {
    if (!dimEq(a.shape[i]!, b.shape[i]!)) throw new ShapeError(`matmul: batch dimensions differ: ${show}`, `axis ${i}: ${a.shape[i]} vs ${b.shape[i]}`);
  }
  const [m, ka] = transA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [kb, n] = transB ? [b.shape[rb - 1]!, b.shape[rb - 2]!] : [b.shape[rb - 2]!, b.shape[rb - 1]!];
  if (!dimEq(ka, kb)) {
    throw new ShapeError(`matmul: inner dimensions differ: ${show}`, `the left operand's columns (${ka}) must equal the right operand's rows (${kb})`);
  }
  return { shape: [...a.shape.slice(0, ra - 2), m, n], dtype: "f32" };
}

export const CONTRACTIONS: OpTable<"matmul" | "conv2d" | "conv2dInputGrad" | "conv2dFilterGrad"> = {
  matmul: {
    arity: 2,
    infer: ([a, b], { transA, transB }) => matmulType(a!, b!, transA, transB),
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
    arity: 2,
    infer: ([x, k], { stride, pad }) => {
      const xi = nhwc("conv2d", "input", x!);
      const ki = nhwc("conv2d", "kernel", k!);
      if (!dimEq(xi.c, k!.shape[2]!)) {
        throw new ShapeError(`conv2d: the input has ${xi.c} channels but the kernel ${formatShape(k!.shape)} expects ${k!.shape[2]}`, "a kernel is [height, width, in, out]");
      }
      const [oh, ow] = windowOutput("conv2d", xi.h, xi.w, [ki.n as number, ki.h], stride, pad);
      return { shape: [xi.n, oh, ow, k!.shape[3]!], dtype: "f32" };
    },
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
    arity: 2,
    infer: ([dy, k], { stride, pad, inputSize }) => {
      const d = nhwc("conv2dInputGrad", "gradient", dy!);
      const ki = nhwc("conv2dInputGrad", "kernel", k!);
      checkGradSize("conv2dInputGrad", inputSize, [ki.n as number, ki.h], stride, pad, d);
      return { shape: [d.n, inputSize[0], inputSize[1], k!.shape[2]!], dtype: "f32" };
    },
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
    arity: 2,
    infer: ([x, dy], { stride, pad, kernelSize }) => {
      const xi = nhwc("conv2dFilterGrad", "input", x!);
      const d = nhwc("conv2dFilterGrad", "gradient", dy!);
      checkGradSize("conv2dFilterGrad", [xi.h, xi.w], kernelSize, stride, pad, d);
      return { shape: [kernelSize[0], kernelSize[1], xi.c, d.c], dtype: "f32" };
    },
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
