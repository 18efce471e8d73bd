// The dlc model language.
//
// A model is a plain TypeScript module that imports from "dlc". `dlc compile`
// reads it statically and never runs it, so these declarations exist for the
// editor and for `tsc --strict`: they give every op its signature and nothing
// more. Shapes are checked by the dlc compiler, not by TypeScript.
//
// A tensor is declared as a branded `number` so that ordinary arithmetic type-checks:
// `matmul(x, w) + b`, `2 * h - 1`, `x ** 2`, `-x` and `Math.exp(x)` are all tensor
// expressions to dlc. Comparisons (`<`, `>`) on tensors are not: use `greater`/`less`.

/** A dimension: a number is static, a string is symbolic (bound at run time, e.g. "batch"). */
export type Dim = number | string;
/** Element types. Integer tensors carry class labels and indices; gradients never flow through them. */
export type DType = "f32" | "i32";

declare const shapeBrand: unique symbol;
declare const dtypeBrand: unique symbol;

/** A tensor of the given shape and element type. `Tensor<["batch", 784]>`, `Tensor<["batch"], "i32">`. */
// The shape defaults to `any` so that an op's result (whose shape only dlc knows)
// fits any annotated shape, while the dtype brand still tells "i32" from "f32".
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tensor<S extends readonly Dim[] = any, D extends DType = "f32"> = number & {
  readonly [shapeBrand]?: S;
  readonly [dtypeBrand]?: D;
};

/** An integer tensor of any shape. */
export type IntTensor = Tensor<any, "i32">;
/** Anything that broadcasts like a tensor: a tensor of either dtype or a plain number. */
export type TensorLike = Tensor<any, DType> | number;

/** How a parameter starts: a named scheme, or a constant value for every element. */
export type Init =
  | "zeros"
  | "ones"
  | "he"
  | "glorot"
  | "lecun"
  | number
  | { normal: number }
  | { uniform: number };

// ---------------------------------------------------------------- parameters

/**
 * A trainable parameter. The name is its checkpoint key; the same name used
 * twice with the same shape is the same parameter.
 */
export declare function param(name: string, shape: readonly number[], init?: Init): Tensor;

// ---------------------------------------------------------------- elementwise

export declare function relu(x: TensorLike): Tensor;
export declare function sigmoid(x: TensorLike): Tensor;
export declare function tanh(x: TensorLike): Tensor;
export declare function exp(x: TensorLike): Tensor;
export declare function log(x: TensorLike): Tensor;
export declare function sqrt(x: TensorLike): Tensor;
export declare function abs(x: TensorLike): Tensor;
export declare function sin(x: TensorLike): Tensor;
export declare function cos(x: TensorLike): Tensor;
/** The error function, 2/sqrt(pi) times the integral of e^(-t^2) from 0 to x. */
export declare function erf(x: TensorLike): Tensor;
/** log(1 + e^x), computed so that it never overflows. */
export declare function softplus(x: TensorLike): Tensor;
/** log(1 + x), accurate for small x. */
export declare function log1p(x: TensorLike): Tensor;
/** e^x - 1, accurate for small x. */
export declare function expm1(x: TensorLike): Tensor;
/** GELU. `approximate` (default true, as in JAX) uses the tanh form; false is exact: x/2 (1 + erf(x / sqrt 2)). */
export declare function gelu(x: TensorLike, options?: { approximate?: boolean }): Tensor;
export declare function square(x: TensorLike): Tensor;
export declare function maximum(a: TensorLike, b: TensorLike): Tensor;
export declare function minimum(a: TensorLike, b: TensorLike): Tensor;
export declare function pow(a: TensorLike, b: TensorLike): Tensor;
/** 1 where a > b, else 0, as an "i32" tensor. */
export declare function greater(a: TensorLike, b: TensorLike): IntTensor;
/** 1 where a < b, else 0, as an "i32" tensor. */
export declare function less(a: TensorLike, b: TensorLike): IntTensor;
/** 1 where a == b, else 0, as an "i32" tensor. */
export declare function equal(a: TensorLike, b: TensorLike): IntTensor;
/** Elementwise choice: `a` where `cond` is non-zero, else `b`. */
export declare function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor;
export declare function cast<D extends DType>(x: TensorLike, dtype: D): Tensor<any, D>;
/** The identity whose gradient is zero. */
export declare function stopGradient(x: TensorLike): Tensor;

// ---------------------------------------------------------------- reductions
// `axis` may be one axis or several, negative from the end; omitted, all axes.

export declare function sum(x: TensorLike, axis?: number | readonly number[], keepDims?: boolean): Tensor;
export declare function mean(x: TensorLike, axis?: number | readonly number[], keepDims?: boolean): Tensor;
export declare function max(x: TensorLike, axis?: number | readonly number[], keepDims?: boolean): Tensor;
export declare function min(x: TensorLike, axis?: number | readonly number[], keepDims?: boolean): Tensor;
/** Index of the largest element along `axis` (the first one on ties). */
export declare function argmax(x: TensorLike, axis?: number): IntTensor;

// ---------------------------------------------------------------- shapes

/** New shape, same elements in row-major order; one entry may be -1. */
export declare function reshape(x: TensorLike, shape: readonly number[]): Tensor;
/** Permutes the axes; omitted, reverses them. */
export declare function transpose(x: TensorLike, perm?: readonly number[]): Tensor;
/** Broadcasts to `shape` (NumPy rules). */
export declare function broadcastTo(x: TensorLike, shape: readonly Dim[]): Tensor;
export declare function oneHot(indices: IntTensor, depth: number): Tensor;
/** x[begin : begin + size] on each axis; a negative begin counts from the end, size -1 runs to the end. */
export declare function slice(x: TensorLike, begin: readonly number[], size: readonly number[]): Tensor;
/** Surrounds each axis with [before, after] elements of `value` (default 0). */
export declare function pad(x: TensorLike, paddings: readonly (readonly [number, number])[], value?: number): Tensor;
/** Joins tensors along an existing axis (default 0). */
export declare function concat(xs: readonly TensorLike[], axis?: number): Tensor;
/** Joins tensors of one shape along a new axis (default 0). */
export declare function stack(xs: readonly TensorLike[], axis?: number): Tensor;
/** Cuts x along `axis` (default 0) into parts of the given sizes, or into that many equal parts. */
export declare function split(x: TensorLike, sizes: number | readonly number[], axis?: number): Tensor[];

// ---------------------------------------------------------------- linear algebra

/** Matrix product over the last two axes (leading axes broadcast); a 1-D operand is a vector. */
export declare function matmul(a: TensorLike, b: TensorLike): Tensor;

export type Padding = "same" | "valid" | number | readonly [number, number] | readonly [number, number, number, number];

export interface ConvOptions {
  stride?: number | readonly [number, number];
  /** "same" accounts for the dilation: the output is ceil(in / stride), as in TensorFlow. */
  padding?: Padding;
  /** Taps this many cells apart (default 1): k taps span (k - 1) * dilation + 1 cells. */
  dilation?: number | readonly [number, number];
  /** Independent convolutions over equal slices of the channels (default 1): the kernel is [kh, kw, in / groups, out]. */
  groups?: number;
}

/** 2-D convolution, NHWC input and [kh, kw, in / groups, out] kernel. */
export declare function conv2d(x: TensorLike, kernel: TensorLike, options?: ConvOptions): Tensor;
/** Depthwise convolution (tf.depthwiseConv2d): kernel [kh, kw, in, multiplier]; output channel c * multiplier + m. */
export declare function depthwiseConv2d(x: TensorLike, kernel: TensorLike, options?: Omit<ConvOptions, "groups">): Tensor;
/** 1-D convolution (tf.conv1d): x [batch, width, in], kernel [kw, in / groups, out]. */
export declare function conv1d(
  x: TensorLike,
  kernel: TensorLike,
  options?: { stride?: number; padding?: "same" | "valid" | number | readonly [number, number]; dilation?: number; groups?: number },
): Tensor;
/**
 * Transposed convolution (tf.conv2dTranspose, the gradient of conv2d with
 * respect to its input): kernel [kh, kw, out / groups, in]. The output is
 * h * stride high with "same" padding, (h - 1) * stride + (kh - 1) * dilation + 1
 * with "valid" (less the padding if explicit), unless outputShape ([height, width]
 * or [batch, height, width, channels]) gives another size that convolves back to h.
 */
export declare function conv2dTranspose(
  x: TensorLike,
  kernel: TensorLike,
  options?: ConvOptions & { outputShape?: readonly [number, number] | readonly [number, number, number, number] },
): Tensor;

export interface PoolOptions {
  size: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: Padding;
}
/** Max pooling over NHWC windows. Padding never wins the max. */
export declare function maxPool2d(x: TensorLike, options: PoolOptions): Tensor;
/** Average pooling over NHWC windows; padded cells are not counted. */
export declare function avgPool2d(x: TensorLike, options: PoolOptions): Tensor;

// ---------------------------------------------------------------- gathers and scans

/**
 * Slices of `table` along `axis` (default 0) picked by integer `indices`: the
 * result's shape is table.shape[:axis] + indices.shape + table.shape[axis+1:]
 * (an embedding lookup is `gather(param("emb", [vocab, dim]), tokens)`).
 * Out-of-range indices are clamped to [0, n - 1] (n = table.shape[axis]), on
 * every backend. The gradient with respect to the table adds up the
 * gradients of repeated indices; the indices have none.
 */
export declare function gather(table: TensorLike, indices: IntTensor | number, axis?: number): Tensor;
/**
 * Running sums along `axis`: y[i] = x[0] + ... + x[i]; `exclusive` leaves out
 * x[i] itself (y[0] = 0), `reverse` sums from the end.
 */
export declare function cumsum(x: TensorLike, axis: number, options?: { exclusive?: boolean; reverse?: boolean }): Tensor;

// ---------------------------------------------------------------- composites

/** x limited to [lo, hi]: minimum(maximum(x, lo), hi). The gradient passes where lo < x < hi. */
export declare function clip(x: TensorLike, lo: TensorLike, hi: TensorLike): Tensor;

export declare function softmax(x: TensorLike, axis?: number): Tensor;
export declare function logSoftmax(x: TensorLike, axis?: number): Tensor;
export declare function logSumExp(x: TensorLike, axis?: number | readonly number[], keepDims?: boolean): Tensor;
/** Layer normalization over the last axis (no learned scale or shift: multiply and add your own). */
export declare function layerNorm(x: TensorLike, eps?: number): Tensor;
// ---------------------------------------------------------------- layers with a training mode
//
// The training step runs `loss` in training mode; every other use of the
// model (predict, eval, the test loss, any other entry point) runs in
// inference mode.

export interface BatchNormOptions {
  /** Names the parameters: `${name}.scale`, `.shift` (learned), `.mean`, `.variance` (running statistics, not trained). */
  name: string;
  /** The feature axis (default -1, channels last); statistics are taken over every other axis. */
  axis?: number;
  /** running = momentum * running + (1 - momentum) * batch statistic (default 0.99, as Keras). */
  momentum?: number;
  /** Added to the variance (default 1e-3, as Keras). */
  epsilon?: number;
}
/**
 * Batch normalization with a learned scale and shift. Training: normalizes
 * with the batch's mean and (biased) variance and moves the running
 * statistics toward them; inference: normalizes with the running statistics.
 */
export declare function batchNorm(x: TensorLike, options: BatchNormOptions): Tensor;

/**
 * Inverted dropout: in training, zeroes each element with probability `rate`
 * and scales the rest by 1 / (1 - rate); in inference, the identity. Masks
 * come from a counter-based generator keyed by the run's seed and the step,
 * the same on every backend and in a resumed run.
 */
export declare function dropout(x: TensorLike, rate: number): Tensor;

/** Mean cross-entropy of softmax(logits) against integer class labels. */
export declare function softmaxCrossEntropy(logits: TensorLike, labels: IntTensor): Tensor<[]>;
/** Mean squared error. */
export declare function mse(prediction: TensorLike, target: TensorLike): Tensor<[]>;

// ---------------------------------------------------------------- training configuration

export type Schedule =
  | { kind: "constant" }
  | { kind: "step"; every: number; gamma: number }
  | { kind: "cosine"; min?: number }
  | { kind: "warmup"; steps: number; then?: Schedule };

interface OptimizerCommon {
  lr: number;
  schedule?: Schedule;
  /** Global-norm gradient clipping. */
  clipNorm?: number;
}
export interface Optimizer {
  readonly kind: "sgd" | "adam" | "adamw";
}
export declare function sgd(options: OptimizerCommon & { momentum?: number; nesterov?: boolean; weightDecay?: number }): Optimizer;
export declare function adam(options: OptimizerCommon & { beta1?: number; beta2?: number; eps?: number }): Optimizer;
export declare function adamw(options: OptimizerCommon & { beta1?: number; beta2?: number; eps?: number; weightDecay?: number }): Optimizer;

/** The shape of `export const train = { ... }`. */
export interface TrainConfig {
  optimizer: Optimizer;
  batch?: number;
  epochs?: number;
  seed?: number;
  normalize?: "standard" | "minmax" | "none";
  label?: string;
}
