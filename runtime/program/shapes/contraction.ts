// Contractions: batched matmul (transA/transB read an operand's last two axes
// swapped) and 2-D convolution (NHWC input, HWIO kernel) with its two gradients,
// dilated and grouped.

import { dimEq, formatShape, mulDim, type Dim } from "../dim.js";
import type { ConvAttrs, Pair } from "../ops.js";
import { operand, ShapeError, type TensorType, type TypeRules } from "./rule.js";
import { checkWindow, dilatedSize, nhwc, windowCount, windowOutput } from "./window.js";

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

/** The kernel's [height, width, in per group, out], checked NHWC-style (its height and width static). */
function kernelOf(op: string, k: TensorType) {
  const ki = nhwc(op, "kernel", k);
  return { kh: typeof ki.n === "number" ? ki.n : NaN, kw: ki.h, cin: ki.w, cout: ki.c };
}

/** Checks the attributes every convolution shares beyond a window's: dilation and groups. */
function checkConv(op: string, { dilation, groups }: ConvAttrs): void {
  if (!dilation.every((d) => Number.isInteger(d) && d >= 1)) throw new ShapeError(`${op}: dilation ${dilation.join("x")} is not valid`, "dilations are positive integers; 1 is a dense kernel");
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`${op}: groups must be a positive integer, got ${groups}`, "1 is an ordinary convolution; the input's channel count is a depthwise one");
}

const inputs = (n: Dim) => `the input's ${n}`;
const outputs = (n: Dim) => `the kernel's ${n} output`;

/** The size of one group of `channels` (static when there are several groups), or a ShapeError naming them: "the input's 6". */
function perGroup(op: string, what: (n: Dim) => string, channels: Dim, groups: number): Dim {
  if (groups === 1) return channels;
  if (typeof channels !== "number" || channels % groups !== 0) {
    throw new ShapeError(`${op}: ${what(channels)} channels do not split into ${groups} groups`, `with groups = ${groups}, the input and output channel counts are multiples of ${groups}`);
  }
  return channels / groups;
}

/** A convolution's output height and width; the messages of windowOutput, naming the dilation when there is one. */
function convOutput(op: string, h: number, w: number, size: Pair, { stride, pad, dilation }: ConvAttrs): [number, number] {
  if (!size.every((k) => Number.isInteger(k) && k >= 1)) throw new ShapeError(`${op}: a ${size.join("x")} kernel is not valid`, "kernel sizes are positive integers");
  if (dilation[0] === 1 && dilation[1] === 1) return windowOutput(op, h, w, size, stride, pad);
  const span = dilatedSize(size, dilation);
  checkWindow(op, span, stride, pad);
  const out: [number, number] = [windowCount(h, span[0], stride[0], pad[0], pad[1]), windowCount(w, span[1], stride[1], pad[2], pad[3])];
  if (out[0] < 1 || out[1] < 1) {
    throw new ShapeError(`${op}: a ${size.join("x")} kernel dilated ${dilation.join("x")} spans ${span.join("x")}, more than the ${h}x${w} input with padding [${pad.join(", ")}]`, "use a smaller dilation or more padding");
  }
  return out;
}

/** Checks that a gradient's spatial size is what the forward convolution produced from `inputSize`. */
function checkConvGrad(op: string, inputSize: Pair, size: Pair, attrs: ConvAttrs, dy: { h: number; w: number }): void {
  const [oh, ow] = convOutput(op, inputSize[0], inputSize[1], size, attrs);
  if (oh !== dy.h || ow !== dy.w) {
    throw new ShapeError(`${op}: gradient is ${dy.h}x${dy.w}, but a ${inputSize.join("x")} input gives ${oh}x${ow}`, "the input size does not match the forward op");
  }
}

export const CONTRACTION_TYPES: TypeRules<"matmul" | "conv2d" | "conv2dInputGrad" | "conv2dFilterGrad"> = {
  matmul: { arity: 2, infer: (xs, { transA, transB }) => matmulType(operand(xs, 0), operand(xs, 1), transA, transB) },
  conv2d: {
    arity: 2,
    infer: (xs, attrs) => {
      const xi = nhwc("conv2d", "input", operand(xs, 0));
      const k = operand(xs, 1);
      const { kh, kw, cin, cout } = kernelOf("conv2d", k);
      const { groups } = attrs;
      checkConv("conv2d", attrs);
      if (groups === 1 && !dimEq(xi.c, cin)) {
        throw new ShapeError(`conv2d: the input has ${xi.c} channels but the kernel ${formatShape(k.shape)} expects ${cin}`, "a kernel is [height, width, in, out]");
      }
      const inPerGroup = perGroup("conv2d", inputs, xi.c, groups);
      perGroup("conv2d", outputs, cout, groups);
      if (!dimEq(inPerGroup, cin)) {
        throw new ShapeError(`conv2d: the input's ${xi.c} channels in ${groups} groups are ${inPerGroup} per group, but the kernel ${formatShape(k.shape)} expects ${cin}`, "a grouped kernel is [height, width, in / groups, out]");
      }
      const [oh, ow] = convOutput("conv2d", xi.h, xi.w, [kh, kw], attrs);
      return { shape: [xi.n, oh, ow, cout], dtype: "f32" };
    },
  },
  conv2dInputGrad: {
    arity: 2,
    infer: (xs, attrs) => {
      const d = nhwc("conv2dInputGrad", "gradient", operand(xs, 0));
      const k = operand(xs, 1);
      const { kh, kw, cin, cout } = kernelOf("conv2dInputGrad", k);
      const { groups, inputSize } = attrs;
      checkConv("conv2dInputGrad", attrs);
      if (!dimEq(d.c, cout)) throw new ShapeError(`conv2dInputGrad: the gradient has ${d.c} channels but the kernel ${formatShape(k.shape)} has ${cout} outputs`, "a kernel is [height, width, in, out]");
      perGroup("conv2dInputGrad", outputs, cout, groups);
      if (groups > 1 && typeof cin !== "number") throw new ShapeError(`conv2dInputGrad: a grouped kernel needs static channels, got ${formatShape(k.shape)}`, "declare the kernel with static sizes");
      checkConvGrad("conv2dInputGrad", inputSize, [kh, kw], attrs, d);
      return { shape: [d.n, inputSize[0], inputSize[1], groups === 1 ? cin : mulDim(cin, groups)], dtype: "f32" };
    },
  },
  conv2dFilterGrad: {
    arity: 2,
    infer: (xs, attrs) => {
      const xi = nhwc("conv2dFilterGrad", "input", operand(xs, 0));
      const d = nhwc("conv2dFilterGrad", "gradient", operand(xs, 1));
      const { groups, kernelSize } = attrs;
      checkConv("conv2dFilterGrad", attrs);
      if (!dimEq(xi.n, d.n)) throw new ShapeError(`conv2dFilterGrad: the input's batch ${xi.n} differs from the gradient's ${d.n}`, "both come from the same forward convolution");
      const cin = perGroup("conv2dFilterGrad", inputs, xi.c, groups);
      perGroup("conv2dFilterGrad", (n) => `the gradient's ${n}`, d.c, groups);
      checkConvGrad("conv2dFilterGrad", [xi.h, xi.w], kernelSize, attrs, d);
      return { shape: [kernelSize[0], kernelSize[1], cin, d.c], dtype: "f32" };
    },
  },
};
