// Sliding-window ops as a TensorFlow.js or PyTorch user writes them, built on
// the three convolution primitives and pooling:
//
//   conv2d            conv2d, any stride, padding, dilation and groups
//   depthwiseConv2d   conv2d with groups = in channels; its [kh, kw, in, multiplier]
//                     kernel is already [kh, kw, 1, in * multiplier] in memory (a reshape)
//   conv1d            conv2d over a height of 1 (reshapes of x, the kernel and the result)
//   conv2dTranspose   conv2dInputGrad itself: the gradient of a conv2d whose output is x
//
// Padding follows TensorFlow: "same" pads a total of
// max((ceil(in / stride) - 1) * stride + span - in, 0), the extra cell at the
// end, where span = (k - 1) * dilation + 1 is the cells a dilated kernel covers.
// Errors name the op the model called and its own shapes, before the
// primitive's rule (which would speak of conv2d over 4-D shapes) sees them.

import { dimEq, formatShape, type Dim } from "../../runtime/program/dim.js";
import type { Pads, Pair } from "../../runtime/program/ops.js";
import { dilatedSize, windowCount } from "../../runtime/program/shapes/index.js";
import type { Node } from "../ir/node.js";
import { reshape } from "./build.js";
import { make } from "./make.js";
import { ShapeError } from "./types.js";

export type Padding = "same" | "valid" | number | readonly number[];

export interface ConvOptions {
  readonly stride?: number | readonly number[];
  readonly padding?: Padding;
  /** Taps this many cells apart (default 1). */
  readonly dilation?: number | readonly number[];
  /** Independent convolutions over equal slices of the channels (default 1). */
  readonly groups?: number;
}

export interface TransposeOptions extends ConvOptions {
  /** The result's [height, width] (or TF's [batch, height, width, channels]); by default the size rule below. */
  readonly outputShape?: readonly number[];
}

const pair = (v: number | readonly number[], what: string): Pair => {
  const p = typeof v === "number" ? [v, v] : v;
  if (p.length !== 2) throw new ShapeError(`${what} must be a number or a pair, got [${p.join(", ")}]`, "e.g. 2 or [2, 2]");
  return [p[0]!, p[1]!];
};

/** Explicit pads for a window of `span` cells. "same" pads so that the output is ceil(input / stride), the extra cell at the end (as TensorFlow). */
export function resolvePadding(padding: Padding, input: Pair, span: Pair, stride: Pair): Pads {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    const total = (i: 0 | 1) => Math.max((Math.ceil(input[i] / stride[i]) - 1) * stride[i] + span[i] - input[i], 0);
    const th = total(0);
    const tw = total(1);
    return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
  }
  if (typeof padding === "number") return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0]!, padding[0]!, padding[1]!, padding[1]!];
  if (padding.length === 4) return [padding[0]!, padding[1]!, padding[2]!, padding[3]!];
  throw new ShapeError(`padding [${padding.join(", ")}] is not valid`, '"same", "valid", a number, [vertical, horizontal] or [top, bottom, left, right]');
}

function spatial(op: string, x: Node): Pair {
  const [, h, w] = x.shape;
  if (x.shape.length !== 4 || typeof h !== "number" || typeof w !== "number") {
    throw new ShapeError(`${op}: the input must be NHWC with static height and width, got ${formatShape(x.shape)}`, "reshape to [-1, height, width, channels]");
  }
  return [h, w];
}

/** A kernel's static sizes (as many as `layout` names), or a ShapeError showing the layout. */
function staticKernel(op: string, k: Node, layout: string): number[] {
  const dims = k.shape;
  if (dims.length !== layout.split(",").length || !dims.every((d) => typeof d === "number")) {
    throw new ShapeError(`${op}: the kernel must be [${layout}], got ${formatShape(dims)}`, `declare it with param(name, [${layout}])`);
  }
  return dims as number[];
}

/** Checks that `groups` divides a channel count, naming the op the model called. */
function checkGroups(op: string, what: (n: Dim) => string, channels: Dim, groups: number): void {
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`${op}: groups must be a positive integer, got ${groups}`, "1 is an ordinary convolution; the input's channel count is a depthwise one");
  if (groups > 1 && (typeof channels !== "number" || channels % groups !== 0)) {
    throw new ShapeError(`${op}: ${what(channels)} channels do not split into ${groups} groups`, `with groups = ${groups}, the input and output channel counts are multiples of ${groups}`);
  }
}

/** Checks strides and dilations before sizes are computed from them (the primitive's rule checks them again). */
function checkSteps(op: string, steps: readonly number[]): void {
  if (!steps.every((s) => Number.isInteger(s) && s >= 1)) throw new ShapeError(`${op}: strides and dilations must be positive integers, got ${steps.join(", ")}`, "1 is a dense, unstrided kernel");
}

/** 2-D convolution: x [batch, h, w, in], k [kh, kw, in / groups, out]. */
export function conv2d(x: Node, k: Node, options?: ConvOptions): Node;
/** The positional form: conv2d(x, k, stride, padding). */
export function conv2d(x: Node, k: Node, stride: number | readonly number[], padding?: Padding): Node;
export function conv2d(x: Node, k: Node, first: ConvOptions | number | readonly number[] = {}, padding?: Padding): Node {
  const options: ConvOptions = typeof first === "number" || Array.isArray(first) ? { stride: first as number | readonly number[], padding } : (first as ConvOptions);
  const [kh, kw] = staticKernel("conv2d", k, "height, width, in, out");
  const stride = pair(options.stride ?? 1, "conv2d stride");
  const dilation = pair(options.dilation ?? 1, "conv2d dilation");
  const pad = resolvePadding(options.padding ?? "valid", spatial("conv2d", x), dilatedSize([kh!, kw!], dilation), stride);
  return make("conv2d", [x, k], { stride, pad, dilation, groups: options.groups ?? 1 });
}

/**
 * tf.depthwiseConv2d: x [batch, h, w, in], k [kh, kw, in, multiplier]; output
 * channel c * multiplier + m is input channel c convolved with k[:, :, c, m].
 */
export function depthwiseConv2d(x: Node, k: Node, options: Omit<ConvOptions, "groups"> = {}): Node {
  const [kh, kw, c, m] = staticKernel("depthwiseConv2d", k, "height, width, in, multiplier") as [number, number, number, number];
  const channels = x.shape[3];
  if (x.shape.length === 4 && channels !== undefined && !dimEq(channels, c)) {
    throw new ShapeError(`depthwiseConv2d: the input has ${channels} channels but the kernel ${formatShape(k.shape)} expects ${c}`, "a depthwise kernel is [height, width, in, multiplier]");
  }
  return conv2d(x, reshape(k, [kh, kw, 1, c * m]), { ...options, groups: c });
}

/** tf.conv1d: x [batch, width, in], k [kw, in / groups, out]; padding "same", "valid", a number or [left, right]. */
export function conv1d(x: Node, k: Node, options: { stride?: number; padding?: Padding; dilation?: number; groups?: number } = {}): Node {
  const [batch, width, channels] = x.shape;
  if (x.shape.length !== 3 || typeof width !== "number" || batch === undefined || channels === undefined) {
    throw new ShapeError(`conv1d: the input must be [batch, width, channels] with a static width, got ${formatShape(x.shape)}`, "reshape to [-1, width, channels]");
  }
  const [kw, cin, cout] = staticKernel("conv1d", k, "width, in, out") as [number, number, number];
  const groups = options.groups ?? 1;
  checkGroups("conv1d", (n) => `the input's ${n}`, channels, groups);
  checkGroups("conv1d", (n) => `the kernel's ${n} output`, cout, groups);
  if (!dimEq(channels, groups === 1 ? cin : cin * groups)) {
    const per = groups === 1 ? "" : ` (${cin} per group, ${groups} groups)`;
    throw new ShapeError(`conv1d: the input has ${channels} channels but the kernel ${formatShape(k.shape)} expects ${groups === 1 ? cin : cin * groups}${per}`, `a kernel is [width, in${groups === 1 ? "" : " / groups"}, out]`);
  }
  const stride = options.stride ?? 1;
  const dilation = options.dilation ?? 1;
  checkSteps("conv1d", [stride, dilation]);
  const padding = options.padding ?? "valid";
  if (typeof padding !== "string" && typeof padding !== "number" && padding.length !== 2) {
    throw new ShapeError(`conv1d: padding [${padding.join(", ")}] is not valid`, '"same", "valid", a number or [left, right]');
  }
  const span = (kw - 1) * dilation + 1;
  const pads = resolvePadding(typeof padding === "string" ? padding : typeof padding === "number" ? [0, padding] : [0, 0, ...padding], [1, width], [1, span], [1, stride]);
  if (pads.every((p) => Number.isInteger(p) && p >= 0) && windowCount(width, span, stride, pads[2], pads[3]) < 1) {
    throw new ShapeError(`conv1d: a kernel of width ${kw}${dilation === 1 ? "" : ` dilated ${dilation} spans ${span} cells and`} does not fit a width of ${width} with padding [${pads[2]}, ${pads[3]}]`, "use a smaller kernel or dilation, or more padding");
  }
  const y = make("conv2d", [reshape(x, [batch, 1, width, channels]), reshape(k, [1, kw, cin, cout])], { stride: [1, stride], pad: pads, dilation: [1, dilation], groups });
  return reshape(y, [batch, y.shape[2]!, cout]);
}

/**
 * tf.conv2dTranspose: x [batch, h, w, in], k [kh, kw, out / groups, in] (TF's
 * layout: the kernel of the conv2d from the result back to x), the result
 * [batch, oh, ow, out]. It is conv2dInputGrad: the gradient of that conv2d
 * with respect to its input, with x as the output's gradient. Unless
 * outputShape says otherwise, per axis:
 *
 *   "same"     oh = h * stride
 *   "valid"    oh = (h - 1) * stride + (kh - 1) * dilation + 1
 *   explicit   oh = (h - 1) * stride + (kh - 1) * dilation + 1 - padBefore - padAfter
 *
 * ("same" pads are those conv2d would use on an input of oh.) An explicit
 * outputShape must convolve back to h; sizes up to stride - 1 larger than
 * the rule's do (Keras' output_padding, PyTorch's output_padding).
 */
export function conv2dTranspose(x: Node, k: Node, options: TransposeOptions = {}): Node {
  const op = "conv2dTranspose";
  const [h, w] = spatial(op, x);
  const [kh, kw, perGroup, inC] = staticKernel(op, k, "height, width, out / groups, in") as [number, number, number, number];
  const channels = x.shape[3]!;
  const groups = options.groups ?? 1;
  if (!dimEq(channels, inC)) throw new ShapeError(`${op}: the input has ${channels} channels but the kernel ${formatShape(k.shape)} expects ${inC}`, "a transposed kernel is [height, width, out, in]");
  checkGroups(op, (n) => `the input's ${n}`, channels, groups);
  const stride = pair(options.stride ?? 1, `${op} stride`);
  const dilation = pair(options.dilation ?? 1, `${op} dilation`);
  checkSteps(op, [...stride, ...dilation]);
  const span = dilatedSize([kh, kw], dilation);
  const padding = options.padding ?? "valid";
  const size = options.outputShape === undefined ? defaultTransposeSize(padding, [h, w], span, stride) : outputSize(op, options.outputShape, x.shape[0]!, perGroup * groups);
  const pad = resolvePadding(padding, size, span, stride);
  const back = (i: 0 | 1, o: number) => windowCount(o, span[i], stride[i], pad[2 * i]!, pad[2 * i + 1]!);
  if (back(0, size[0]) !== h || back(1, size[1]) !== w) {
    const fits = (i: 0 | 1, n: number) => fittingSizes(padding, i, n, span[i], stride[i]).join("..");
    throw new ShapeError(`${op}: an output of ${size.join("x")} convolves back to ${back(0, size[0])}x${back(1, size[1])}, not the input's ${h}x${w}`, `with this stride, kernel and padding, output heights ${fits(0, h)} and widths ${fits(1, w)} fit`);
  }
  return make("conv2dInputGrad", [x, k], { stride, pad, dilation, groups, inputSize: size });
}

/** The transposed convolution's output size by the rule above. */
function defaultTransposeSize(padding: Padding, input: Pair, span: Pair, stride: Pair): Pair {
  if (padding === "same") return [input[0] * stride[0], input[1] * stride[1]];
  const pads = resolvePadding(padding, input, span, stride);
  return [(input[0] - 1) * stride[0] + span[0] - pads[0] - pads[1], (input[1] - 1) * stride[1] + span[1] - pads[2] - pads[3]];
}

/**
 * The first and last output sizes along axis i that a conv2d with this padding takes back to n:
 * "same" gives ceil(o / stride), fixed pads P give floor((o + P - span) / stride) + 1.
 */
function fittingSizes(padding: Padding, i: 0 | 1, n: number, span: number, stride: number): [number, number] {
  if (padding === "same") return [(n - 1) * stride + 1, n * stride];
  const pads = resolvePadding(padding, [1, 1], [1, 1], [1, 1]);
  const first = (n - 1) * stride + span - pads[2 * i]! - pads[2 * i + 1]!;
  return [Math.max(first, 1), first + stride - 1];
}

/** An explicit outputShape's [height, width]: [h, w], [h, w, c] or TF's [batch, h, w, c] (channels checked against the kernel). */
function outputSize(op: string, shape: readonly number[], batch: Dim, channels: number): Pair {
  const hw = shape.length === 4 ? shape.slice(1, 3) : shape.slice(0, 2);
  const c = shape.length >= 3 ? shape.at(-1) : channels;
  if (shape.length < 2 || shape.length > 4 || !hw.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ShapeError(`${op}: outputShape must be [height, width] or [batch, height, width, channels] with positive sizes, got [${shape.join(", ")}]`, "e.g. { outputShape: [28, 28] }");
  }
  if (c !== channels) throw new ShapeError(`${op}: outputShape has ${c} channels but the kernel gives ${channels}`, "a transposed kernel is [height, width, out / groups, in]");
  if (shape.length === 4 && shape[0] !== -1 && shape[0] !== batch) throw new ShapeError(`${op}: outputShape's batch ${shape[0]} is not the input's ${batch}`, "the batch may be given as -1");
  return [hw[0]!, hw[1]!];
}

/** Max or average pooling over NHWC windows (the stride defaults to the size). */
export function pool(op: "maxPool2d" | "avgPool2d", x: Node, size: number | readonly number[], stride?: number | readonly number[], padding: Padding = "valid"): Node {
  const sz = pair(size, `${op} size`);
  const st = stride === undefined ? sz : pair(stride, `${op} stride`);
  return make(op, [x], { size: sz, stride: st, pad: resolvePadding(padding, spatial(op, x), sz, st) });
}
