// Contractions: batched matmul (transA/transB read an operand's last two axes
// swapped) and 2-D convolution (NHWC input, HWIO kernel) with its two gradients.

import { dimEq, formatShape } from "../dim.js";
import { operand, ShapeError, type TensorType, type TypeRules } from "./rule.js";
import { checkGradSize, nhwc, windowOutput } from "./window.js";

function matmulType(a: TensorType, b: TensorType, transA: boolean, transB: boolean): TensorType {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const show = `${formatShape(a.shape)}${transA ? "ᵀ" : ""} @ ${formatShape(b.shape)}${transB ? "ᵀ" : ""}`;
  if (a.dtype !== "f32" || b.dtype !== "f32") throw new ShapeError(`matmul needs f32 operands, got ${a.dtype} and ${b.dtype}`, 'cast(x, "f32") converts');
  if (ra < 2 || ra !== rb) throw new ShapeError(`matmul: operand ranks differ or are below 2: ${show}`, "the frontend broadcasts batch axes; primitives need equal ranks");
  for (let i = 0; i < ra - 2; i++) {
    if (!dimEq(a.shape[i] ?? 0, b.shape[i] ?? 0)) throw new ShapeError(`matmul: batch dimensions differ: ${show}`, `axis ${i}: ${a.shape[i]} vs ${b.shape[i]}`);
  }
  const last = (s: TensorType["shape"], swap: boolean) => {
    const [x, y] = [s[s.length - 2] ?? 0, s[s.length - 1] ?? 0];
    return swap ? [y, x] : [x, y];
  };
  const [m, ka] = last(a.shape, transA);
  const [kb, n] = last(b.shape, transB);
  if (m === undefined || ka === undefined || kb === undefined || n === undefined || !dimEq(ka, kb)) {
    throw new ShapeError(`matmul: inner dimensions differ: ${show}`, `the left operand's columns (${ka}) must equal the right operand's rows (${kb})`);
  }
  return { shape: [...a.shape.slice(0, ra - 2), m, n], dtype: "f32" };
}

/** The kernel's [height, width, in, out], checked NHWC-style (its height and width static). */
function kernelOf(op: string, k: TensorType) {
  const ki = nhwc(op, "kernel", k);
  return { kh: typeof ki.n === "number" ? ki.n : NaN, kw: ki.h, cin: ki.w, cout: ki.c };
}

export const CONTRACTION_TYPES: TypeRules<"matmul" | "conv2d" | "conv2dInputGrad" | "conv2dFilterGrad"> = {
  matmul: { arity: 2, infer: (xs, { transA, transB }) => matmulType(operand(xs, 0), operand(xs, 1), transA, transB) },
  conv2d: {
    arity: 2,
    infer: (xs, { stride, pad }) => {
      const xi = nhwc("conv2d", "input", operand(xs, 0));
      const k = operand(xs, 1);
      const { kh, kw, cin, cout } = kernelOf("conv2d", k);
      if (!dimEq(xi.c, cin)) {
        throw new ShapeError(`conv2d: the input has ${xi.c} channels but the kernel ${formatShape(k.shape)} expects ${cin}`, "a kernel is [height, width, in, out]");
      }
      const [oh, ow] = windowOutput("conv2d", xi.h, xi.w, [kh, kw], stride, pad);
      return { shape: [xi.n, oh, ow, cout], dtype: "f32" };
    },
  },
  conv2dInputGrad: {
    arity: 2,
    infer: (xs, { stride, pad, inputSize }) => {
      const d = nhwc("conv2dInputGrad", "gradient", operand(xs, 0));
      const { kh, kw, cin } = kernelOf("conv2dInputGrad", operand(xs, 1));
      checkGradSize("conv2dInputGrad", inputSize, [kh, kw], stride, pad, d);
      return { shape: [d.n, inputSize[0], inputSize[1], cin], dtype: "f32" };
    },
  },
  conv2dFilterGrad: {
    arity: 2,
    infer: (xs, { stride, pad, kernelSize }) => {
      const xi = nhwc("conv2dFilterGrad", "input", operand(xs, 0));
      const d = nhwc("conv2dFilterGrad", "gradient", operand(xs, 1));
      checkGradSize("conv2dFilterGrad", [xi.h, xi.w], kernelSize, stride, pad, d);
      return { shape: [kernelSize[0], kernelSize[1], xi.c, d.c], dtype: "f32" };
    },
  },
};
