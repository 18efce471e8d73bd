// The convolution composites and the convolution type rules, by hand: the
// padding "same" gives a dilated kernel (TensorFlow's rule on the span
// (k - 1) * d + 1), the output size of a transposed convolution, what each
// composite is made of (depthwise and 1-D convolutions add only reshapes, a
// transposed one is conv2dInputGrad), and the errors for bad groups,
// dilations, channels and output shapes, each naming the op the model called.

import test from "ava";
import type { Node } from "../../../compiler/ir/node.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { ShapeError } from "../../../compiler/ops/types.js";
import type { Dim } from "../../../runtime/program/dim.js";
import type { ConvAttrs } from "../../../runtime/program/ops.js";
import { inferType } from "../../../runtime/program/shapes/index.js";

const input = (name: string, shape: readonly Dim[]) => make("input", [], { name, shape, dtype: "f32" });
const attrs = (n: Node): ConvAttrs => {
  if (n.op !== "conv2d" && n.op !== "conv2dInputGrad") throw new Error(`not a convolution: ${n.op}`);
  return n.attrs;
};

test('"same" pads the span of the dilated kernel, the extra cell at the end (TensorFlow\'s rule)', (t) => {
  // 7 wide, 3 taps 2 apart span 5: 4 cells of padding, 2 on each side.
  const a = ops.conv2d(input("x", [1, 7, 7, 1]), input("k", [3, 3, 1, 1]), { dilation: 2, padding: "same" });
  t.deepEqual(attrs(a).pad, [2, 2, 2, 2]);
  t.deepEqual(a.shape, [1, 7, 7, 1]);
  // 8 high, stride 2, span 5: (ceil(8 / 2) - 1) * 2 + 5 - 8 = 3 cells, 1 before and 2 after; 9 wide, 2 taps 3 apart span 4: (5 - 1) * 2 + 4 - 9 = 3.
  const b = ops.conv2d(input("x", [1, 8, 9, 1]), input("k", [3, 2, 1, 1]), { dilation: [2, 3], stride: 2, padding: "same" });
  t.deepEqual(attrs(b).pad, [1, 2, 1, 2]);
  t.deepEqual(b.shape, [1, 4, 5, 1]);
  // "valid" keeps only windows inside: 9 - 5 + 1 = 5 rows.
  t.deepEqual(ops.conv2d(input("x", [2, 9, 9, 3]), input("k", [3, 3, 3, 4]), { dilation: 2 }).shape, [2, 5, 5, 4]);
});

test("a transposed convolution's output size: h * stride for \"same\", (h - 1) * stride + span for \"valid\", less explicit padding", (t) => {
  const x = input("x", [2, 5, 4, 3]);
  const k = input("k", [3, 2, 6, 3]);
  t.deepEqual(ops.conv2dTranspose(x, k, { stride: 2, padding: "same" }).shape, [2, 10, 8, 6]);
  t.deepEqual(ops.conv2dTranspose(x, k, { stride: [2, 3], padding: "valid" }).shape, [2, 4 * 2 + 3, 3 * 3 + 2, 6]);
  t.deepEqual(ops.conv2dTranspose(x, k, { stride: 1, dilation: 2, padding: "valid" }).shape, [2, 4 + 5, 3 + 3, 6]);
  t.deepEqual(ops.conv2dTranspose(x, k, { stride: 2, padding: [1, 1, 0, 1] }).shape, [2, 8 + 3 - 2, 6 + 2 - 1, 6]);
  // Any size that convolves back to the input, in TF's 4-D form or as [height, width].
  t.deepEqual(ops.conv2dTranspose(x, k, { stride: 2, padding: "same", outputShape: [2, 9, 7, 6] }).shape, [2, 9, 7, 6]);
  t.deepEqual(ops.conv2dTranspose(x, k, { stride: 2, padding: "valid", outputShape: [12, 9] }).shape, [2, 12, 9, 6]);
});

test("depthwiseConv2d is a reshape of the kernel (no copy) and a conv2d with one group per channel", (t) => {
  const k = input("k", [3, 3, 5, 2]);
  const y = ops.depthwiseConv2d(input("x", ["batch", 8, 8, 5]), k, { dilation: 2, padding: "same" });
  t.is(y.op, "conv2d");
  t.like(attrs(y), { groups: 5, dilation: [2, 2] });
  const kernel = y.inputs[1]!;
  t.is(kernel.op, "reshape");
  t.is(kernel.inputs[0], k);
  t.deepEqual(kernel.shape, [3, 3, 1, 10]);
  t.deepEqual(y.shape, ["batch", 8, 8, 10]);
});

test("conv1d is a conv2d over a height of 1 between reshapes", (t) => {
  const x = input("x", ["batch", 20, 6]);
  const k = input("k", [5, 3, 4]);
  const y = ops.conv1d(x, k, { stride: 2, dilation: 3, groups: 2, padding: "same" });
  t.deepEqual(y.shape, ["batch", 10, 4]);
  t.is(y.op, "reshape");
  const conv = y.inputs[0]!;
  t.like(attrs(conv), { stride: [1, 2], dilation: [1, 3], groups: 2 });
  // ceil(20 / 2) = 10 outputs need (10 - 1) * 2 + 13 - 20 = 11 cells: 5 before, 6 after, none above or below.
  t.deepEqual(attrs(conv).pad, [0, 0, 5, 6]);
  t.deepEqual(conv.inputs.map((i) => [i.op, i.inputs[0]]), [["reshape", x], ["reshape", k]]);
  t.deepEqual(ops.conv1d(x, k, { groups: 2, padding: [1, 2] }).shape, ["batch", 19, 4]);
});

test("conv2dTranspose is the input gradient of the conv2d from its output back to x", (t) => {
  const x = input("x", [1, 4, 4, 3]);
  const k = input("k", [3, 3, 2, 3]);
  const y = ops.conv2dTranspose(x, k, { stride: 2, padding: "same", dilation: 1 });
  t.is(y.op, "conv2dInputGrad");
  t.deepEqual(y.inputs, [x, k]);
  // The forward conv2d of an 8x8 image to the 4x4 x pads "same" for 8: (4 - 1) * 2 + 3 - 8 = 1, at the end.
  t.like(y.attrs, { inputSize: [8, 8], pad: [0, 1, 0, 1], stride: [2, 2] });
});

const fails = (f: () => unknown, message: RegExp) => (t: { throws: (f: () => unknown, e: object) => unknown }) => t.throws(f, { instanceOf: ShapeError, message });

test("bad groups and dilations are refused", (t) => {
  const x = input("x", [1, 8, 8, 6]);
  fails(() => ops.conv2d(x, input("k", [3, 3, 6, 4]), { groups: 0 }), /conv2d: groups must be a positive integer, got 0/)(t);
  fails(() => ops.conv2d(x, input("k", [3, 3, 6, 4]), { groups: 1.5 }), /conv2d: groups must be a positive integer, got 1.5/)(t);
  fails(() => ops.conv2d(x, input("k", [3, 3, 2, 4]), { groups: 3 }), /conv2d: the kernel's 4 output channels do not split into 3 groups/)(t);
  fails(() => ops.conv2d(x, input("k", [3, 3, 1, 6]), { groups: 3 }), /conv2d: the input's 6 channels in 3 groups are 2 per group, but the kernel \[3, 3, 1, 6\] expects 1/)(t);
  fails(() => ops.conv2d(x, input("k", [3, 3, 6, 4]), { dilation: [1, 0] }), /conv2d: dilation 1x0 is not valid/)(t);
  fails(() => ops.conv2d(x, input("k", [3, 3, 6, 4]), { dilation: 4 }), /conv2d: a 3x3 kernel dilated 4x4 spans 9x9, more than the 8x8 input/)(t);
  fails(() => ops.conv2d(input("x", [1, 8, 8, "c"]), input("k", [3, 3, 2, 4]), { groups: 2 }), /conv2d: the input's c channels do not split into 2 groups/)(t);
  fails(() => ops.conv1d(input("x", [1, 9, 4]), input("k", [3, 4, 4]), { dilation: 5 }), /conv1d: a kernel of width 3 dilated 5 spans 11 cells and does not fit a width of 9/)(t);
  fails(() => ops.conv1d(input("x", [1, 9, 4]), input("k", [3, 4, 4]), { stride: 0 }), /conv1d: strides and dilations must be positive integers/)(t);
  fails(() => ops.conv1d(input("x", [1, 9, 4]), input("k", [3, 4, 4]), { padding: [1, 2, 3] }), /conv1d: padding \[1, 2, 3\] is not valid/)(t);
  fails(() => ops.conv1d(input("x", [1, 9, 9, 4]), input("k", [3, 4, 4])), /conv1d: the input must be \[batch, width, channels\]/)(t);
  fails(() => ops.depthwiseConv2d(x, input("k", [3, 3, 6])), /depthwiseConv2d: the kernel must be \[height, width, in, multiplier\]/)(t);
});

test("a transposed convolution's bad kernel, groups or output shape are refused with the sizes that would fit", (t) => {
  const x = input("x", [2, 5, 5, 4]);
  const k = input("k", [3, 3, 3, 4]);
  fails(() => ops.conv2dTranspose(x, input("k", [3, 3, 4, 3])), /conv2dTranspose: the input has 4 channels but the kernel \[3, 3, 4, 3\] expects 3/)(t);
  fails(() => ops.conv2dTranspose(x, k, { groups: 3 }), /conv2dTranspose: the input's 4 channels do not split into 3 groups/)(t);
  const e = t.throws(() => ops.conv2dTranspose(x, k, { stride: 2, padding: "valid", outputShape: [9, 13] }), { instanceOf: ShapeError });
  t.is(e?.message, "conv2dTranspose: an output of 9x13 convolves back to 4x6, not the input's 5x5");
  t.is((e as ShapeError).hint, "with this stride, kernel and padding, output heights 11..12 and widths 11..12 fit");
  // Explicit pads differ per axis: heights (4 - 1) * 2 + 3 - 0 = 9.., widths 9 - 3 = 6...
  const one = t.throws(() => ops.conv2dTranspose(input("x1", [1, 4, 4, 1]), input("k1", [3, 3, 1, 1]), { stride: 2, padding: [0, 0, 2, 1], outputShape: [9, 20] }), { instanceOf: ShapeError });
  t.is((one as ShapeError).hint, "with this stride, kernel and padding, output heights 9..10 and widths 6..7 fit");
  fails(() => ops.conv2dTranspose(x, k, { outputShape: [2, 7, 7, 5] }), /outputShape has 5 channels but the kernel gives 3/)(t);
  fails(() => ops.conv2dTranspose(x, k, { outputShape: [3, 7, 7, 3] }), /outputShape's batch 3 is not the input's 2/)(t);
  fails(() => ops.conv2dTranspose(x, k, { outputShape: [7] }), /outputShape must be \[height, width\] or \[batch, height, width, channels\]/)(t);
});

test("the gradient primitives check their channels, batches and groups against each other", (t) => {
  const geometry: ConvAttrs = { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [2, 1], groups: 2 };
  const f32 = (shape: Dim[]) => ({ shape, dtype: "f32" as const });
  t.deepEqual(inferType("conv2dInputGrad", [f32([1, 4, 6, 6]), f32([2, 3, 3, 6])], { ...geometry, inputSize: [6, 8] }).shape, [1, 6, 8, 6]);
  t.deepEqual(inferType("conv2dFilterGrad", [f32([1, 6, 8, 6]), f32([1, 4, 6, 6])], { ...geometry, kernelSize: [2, 3] }).shape, [2, 3, 3, 6]);
  t.throws(() => inferType("conv2dInputGrad", [f32([1, 4, 6, 5]), f32([2, 3, 3, 6])], { ...geometry, inputSize: [6, 8] }), { message: /the gradient has 5 channels but the kernel \[2, 3, 3, 6\] has 6 outputs/ });
  t.throws(() => inferType("conv2dInputGrad", [f32([1, 4, 6, 6]), f32([2, 3, 3, 6])], { ...geometry, inputSize: [7, 8] }), { message: /gradient is 4x6, but a 7x8 input gives 5x6/ });
  t.throws(() => inferType("conv2dFilterGrad", [f32([2, 6, 8, 6]), f32([1, 4, 6, 6])], { ...geometry, kernelSize: [2, 3] }), { message: /the input's batch 2 differs from the gradient's 1/ });
  t.throws(() => inferType("conv2dFilterGrad", [f32([1, 6, 8, 6]), f32([1, 4, 6, 5])], { ...geometry, kernelSize: [2, 3] }), { message: /the gradient's 5 channels do not split into 2 groups/ });
  t.throws(() => inferType("conv2dFilterGrad", [f32([1, 6, 8, 6]), f32([1, 4, 6, 6])], { ...geometry, kernelSize: [2, 1.5] }), { message: /a 2x1.5 kernel is not valid/ });
});
