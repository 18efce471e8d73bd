// Batch normalization (Ioffe & Szegedy 2015) as primitives: statistics over
// every axis but the feature axis, then a per-feature affine map. Training
// normalizes with the batch's statistics and moves the running ones toward
// them; inference normalizes with the running ones. The variance is the
// biased one (divided by the count), in both the normalization and the
// running average, as Keras and Flax keep it.

import type { Node } from "../ir/node.js";
import { add, broadcastInDim, div, full, mul, scale, sub, unary } from "./build.js";
import { mean } from "./composite.js";

export interface BatchNormOptions {
  /** The feature axis, non-negative. */
  readonly axis: number;
  /** running = momentum * running + (1 - momentum) * batch. */
  readonly momentum: number;
  readonly epsilon: number;
}

/** The per-feature parameters: learned scale and shift, running mean and variance. */
export interface BatchNormParams {
  readonly scale: Node;
  readonly shift: Node;
  readonly mean: Node;
  readonly variance: Node;
}

/** A [C] vector spread along `axis` of x. */
const along = (v: Node, x: Node, axis: number) => broadcastInDim(v, x.shape, [axis]);

function normalize(x: Node, axis: number, m: Node, v: Node, p: BatchNormParams, epsilon: number): Node {
  const inv = div(p.scale, unary("sqrt", add(v, full(epsilon, v.shape))));
  return add(mul(sub(x, along(m, x, axis)), along(inv, x, axis)), along(p.shift, x, axis));
}

/** Inference: the running statistics. */
export function batchNormInference(x: Node, p: BatchNormParams, o: BatchNormOptions): Node {
  return normalize(x, o.axis, p.mean, p.variance, p, o.epsilon);
}

/** Training: the batch's statistics, and the running statistics after this batch. */
export function batchNormTraining(x: Node, p: BatchNormParams, o: BatchNormOptions): { y: Node; mean: Node; variance: Node } {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== o.axis);
  const m = mean(x, axes);
  const centered = sub(x, along(m, x, o.axis));
  const v = mean(mul(centered, centered), axes);
  const moved = (running: Node, batch: Node) => add(scale(running, o.momentum), scale(batch, 1 - o.momentum));
  return { y: normalize(x, o.axis, m, v, p, o.epsilon), mean: moved(p.mean, m), variance: moved(p.variance, v) };
}
