// The benchmark workloads, defined once for every peer: sizes, constants, the
// random inputs, the models' parameters and their initial values, and the
// batches a training run cycles through.
//
//   gelu               y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), x of 4,194,304
//   softmax            over the last axis of [4096, 1024]
//   layernorm          (x - mean) / sqrt(var + 1e-5) over the last axis of [4096, 1024]
//   matmul             A[1024,1024] @ B[1024,1024]
//   matmul-bias-relu   relu(A[1024,1024] @ B[1024,1024] + b[1024])
//   adam               one bias-corrected Adam update of 1,048,576 parameters
//                      (p, g, m, v in; p, m, v out and kept as the next state)
//   mlp                models/mlp.ts: 784-256-128-10, relu, batch 128
//   cnn                models/cnn.ts: NHWC, conv3x3 1->16 relu, pool 2, conv3x3 16->32 relu, pool 2, dense 1568->10; batch 64
//
// Adam is dlc's (compiler/optim/step.ts): m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), t counting from 1.

import { initialize } from "../../runtime/init/init.js";
import type { Init } from "../../runtime/program/ops.js";
import { Random } from "../../runtime/random.js";
import type { HostTensor, Micro, Model, TrainingData } from "./types.js";

export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;
export const LAYERNORM_EPS = 1e-5;
export const GELU_C = Math.sqrt(2 / Math.PI);
export const CLASSES = 10;
export const PIXELS = 784;

/** The benchmark-size input shapes of each micro workload (adam: p, g, m, v; the step t is kept by the runner). */
export const MICRO_SHAPES: Record<Micro, readonly (readonly number[])[]> = {
  gelu: [[4_194_304]],
  softmax: [[4096, 1024]],
  layernorm: [[4096, 1024]],
  matmul: [[1024, 1024], [1024, 1024]],
  "matmul-bias-relu": [[1024, 1024], [1024, 1024], [1024]],
  adam: [[1_048_576], [1_048_576], [1_048_576], [1_048_576]],
};

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Random inputs of the given shapes. Uniform in [-3, 3] except adam's second
 * moment, which must be non-negative (uniform in [0, 1e-4]), and its first
 * moment and gradient, which are kept small like real ones.
 */
export function microInputs(kind: Micro, shapes: readonly (readonly number[])[] = MICRO_SHAPES[kind], seed = 1): HostTensor[] {
  const rng = new Random(seed, 0x6d6963);
  return shapes.map((shape, i) => {
    const data = new Float32Array(size(shape));
    const [lo, hi] = kind === "adam" ? ([[-1, 1], [-1e-2, 1e-2], [-1e-3, 1e-3], [0, 1e-4]] as const)[i]! : [-3, 3];
    for (let k = 0; k < data.length; k++) data[k] = lo + (hi - lo) * rng.uniform();
    return { data, shape };
  });
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

/** The parameters of models/mlp.ts and models/cnn.ts, with dlc's names, shapes (conv kernels HWIO) and initializers. */
export const MODEL_PARAMS: Record<Model, readonly ParamSpec[]> = {
  mlp: [
    { name: "fc0.w", shape: [784, 256], init: { kind: "he" } },
    { name: "fc0.b", shape: [256], init: { kind: "zeros" } },
    { name: "fc1.w", shape: [256, 128], init: { kind: "he" } },
    { name: "fc1.b", shape: [128], init: { kind: "zeros" } },
    { name: "out.w", shape: [128, 10], init: { kind: "he" } },
    { name: "out.b", shape: [10], init: { kind: "zeros" } },
  ],
  cnn: [
    { name: "conv1.k", shape: [3, 3, 1, 16], init: { kind: "he" } },
    { name: "conv1.b", shape: [16], init: { kind: "zeros" } },
    { name: "conv2.k", shape: [3, 3, 16, 32], init: { kind: "he" } },
    { name: "conv2.b", shape: [32], init: { kind: "zeros" } },
    { name: "out.w", shape: [1568, 10], init: { kind: "glorot" } },
    { name: "out.b", shape: [10], init: { kind: "zeros" } },
  ],
};

/** dlc's initial values (same seed, same per-name streams as `dlc train`), so every peer starts where dlc does. */
export function initialParams(model: Model, seed = 0): Map<string, HostTensor> {
  return new Map(MODEL_PARAMS[model].map((p) => [p.name, { data: initialize(p.init, p.shape, seed, p.name), shape: p.shape }]));
}

/** A conv kernel from HWIO (dlc, TensorFlow) to OIHW (jax-js's lax.conv). */
export function hwioToOihw(k: HostTensor): HostTensor {
  const [h, w, i, o] = k.shape as [number, number, number, number];
  const out = new Float32Array(k.data.length);
  for (let a = 0; a < h; a++)
    for (let b = 0; b < w; b++)
      for (let c = 0; c < i; c++)
        for (let d = 0; d < o; d++) out[((d * i + c) * h + a) * w + b] = k.data[((a * w + b) * i + c) * o + d]!;
  return { data: out, shape: [o, i, h, w] };
}

/** Cycles through the full batches of `data`: views, no copies. */
export class Batches {
  private next = 0;
  readonly count: number;

  constructor(
    private readonly data: TrainingData,
    readonly batch: number,
  ) {
    if (!(Number.isInteger(batch) && batch > 0)) throw new RangeError(`batch ${batch} must be a positive integer`);
    if (data.x.length < data.rows * PIXELS || data.y.length < data.rows) {
      throw new RangeError(`training data: ${data.rows} rows need ${data.rows * PIXELS} pixels and ${data.rows} labels, got ${data.x.length} and ${data.y.length}`);
    }
    this.count = Math.floor(data.rows / batch);
    if (this.count === 0) throw new RangeError(`training data: ${data.rows} rows make no batch of ${batch}`);
  }

  take(): { x: Float32Array; y: Int32Array } {
    const k = this.next;
    this.next = (this.next + 1) % this.count;
    const r = k * this.batch;
    return { x: this.data.x.subarray(r * PIXELS, (r + this.batch) * PIXELS), y: this.data.y.subarray(r, r + this.batch) };
  }
}
