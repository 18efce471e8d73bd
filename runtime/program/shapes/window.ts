// Sliding windows over NHWC images, shared by the convolutions and pooling.

import { formatShape, type Dim } from "../dim.js";
import type { Pads, Pair } from "../ops.js";
import { ShapeError, type TensorType } from "./rule.js";

/** The number of window positions along one axis. */
export function windowCount(size: number, k: number, stride: number, padBefore: number, padAfter: number): number {
  return Math.floor((size + padBefore + padAfter - k) / stride) + 1;
}

/** The cells a dilated kernel spans: k taps d apart, (k - 1) * d + 1 cells (TensorFlow's effective filter size). */
export function dilatedSize(size: Pair, dilation: Pair): Pair {
  return [(size[0] - 1) * dilation[0] + 1, (size[1] - 1) * dilation[1] + 1];
}

/** Checks an NHWC operand and returns its static height and width. */
export function nhwc(op: string, what: string, t: TensorType): { n: Dim; h: number; w: number; c: Dim } {
  const [n, h, w, c] = t.shape;
  if (t.shape.length !== 4 || n === undefined || c === undefined) throw new ShapeError(`${op}: the ${what} must be NHWC (rank 4), got ${formatShape(t.shape)}`, "reshape to [-1, height, width, channels]");
  if (typeof h !== "number" || typeof w !== "number") throw new ShapeError(`${op}: the ${what}'s height and width must be static, got ${formatShape(t.shape)}`, "only the batch dimension may be symbolic");
  if (t.dtype !== "f32") throw new ShapeError(`${op}: the ${what} must be f32, got ${t.dtype}`, 'cast(x, "f32") converts');
  return { n, h, w, c };
}

export function checkWindow(op: string, size: Pair, stride: Pair, pad: Pads): void {
  const ok = [...size, ...stride].every((v) => Number.isInteger(v) && v >= 1) && pad.every((p) => Number.isInteger(p) && p >= 0);
  if (!ok) throw new ShapeError(`${op}: window ${size.join("x")}, stride ${stride.join("x")}, padding [${pad.join(", ")}] is not valid`, "sizes and strides are positive integers, paddings non-negative");
}

/** The output height and width of a window op, or a ShapeError if the window does not fit. */
export function windowOutput(op: string, h: number, w: number, size: Pair, stride: Pair, pad: Pads): [number, number] {
  checkWindow(op, size, stride, pad);
  const oh = windowCount(h, size[0], stride[0], pad[0], pad[1]);
  const ow = windowCount(w, size[1], stride[1], pad[2], pad[3]);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`${op}: a ${size.join("x")} window does not fit a ${h}x${w} input with padding [${pad.join(", ")}]`, "use a smaller window or more padding");
  }
  return [oh, ow];
}

/** Checks that a gradient's spatial size is what the forward op produced from `inputSize`. */
export function checkGradSize(op: string, inputSize: Pair, size: Pair, stride: Pair, pad: Pads, dy: { h: number; w: number }): void {
  const [oh, ow] = windowOutput(op, inputSize[0], inputSize[1], size, stride, pad);
  if (oh !== dy.h || ow !== dy.w) {
    throw new ShapeError(`${op}: gradient is ${dy.h}x${dy.w}, but a ${inputSize.join("x")} input gives ${oh}x${ow}`, "the input size does not match the forward op");
  }
}
