// Batch norm as primitives: in training mode the batch's statistics (biased
// variance), checked against TensorFlow.js (moments and the normalization) and its
// gradients, and against finite differences in float64; the running
// statistics move by `momentum` toward the batch's; inference normalizes with
// the running ones.

import test from "ava";
import * as tf from "@tensorflow/tfjs";
import { batchNormInference, batchNormTraining, type BatchNormOptions } from "../../../compiler/ops/batchnorm.js";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import { binary, reduce } from "../../../compiler/ops/build.js";
import type { Graph } from "../../../compiler/ir/node.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { checkGradient, input, relativeError, sample, POSITIVE } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

test.before(async () => {
  tf.enableProdMode();
  await tf.setBackend("cpu");
});

/** Feature axis and shape: channels last, and channels second (NCHW). */
const CASES: { shape: number[]; axis: number }[] = [
  { shape: [7, 5], axis: 1 },
  { shape: [3, 5, 4, 6], axis: 3 },
  { shape: [2, 3, 5, 4], axis: 1 },
];

function params(c: number) {
  return { scale: input("scale", [c]), shift: input("shift", [c]), mean: input("mean", [c]), variance: input("variance", [c]) };
}

function feeds(rng: Random, shape: number[], c: number): Map<string, NDArray> {
  return new Map<string, NDArray>([
    ["x", { shape, data: sample(rng, shape, { lo: -3, hi: 4 }) }],
    ["scale", { shape: [c], data: sample(rng, [c], POSITIVE) }],
    ["shift", { shape: [c], data: sample(rng, [c]) }],
    ["mean", { shape: [c], data: sample(rng, [c]) }],
    ["variance", { shape: [c], data: sample(rng, [c], POSITIVE) }],
    ["r", { shape, data: sample(rng, shape) }],
  ]);
}

/** A per-feature vector spread over the feature axis. */
const spread = (v: tf.Tensor, rank: number, axis: number) => v.reshape(Array.from({ length: rank }, (_, i) => (i === axis ? -1 : 1)));
/** The normalization written out in TF.js ops (tf.batchNorm's gradient with respect to the scale fails on rank-2 inputs in TF.js 4.22). */
const tfNormalize = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, shift: tf.Tensor, scale: tf.Tensor, eps: number) => x.sub(m).mul(tf.rsqrt(v.add(eps))).mul(scale).add(shift);
const f32 = (a: NDArray) => tf.tensor(Float32Array.from(a.data), [...a.shape]);

for (const { shape, axis } of CASES) {
  const c = shape[axis]!;
  const o: BatchNormOptions = { axis, momentum: 0.9, epsilon: 1e-3 };
  const label = `[${shape.join(", ")}] axis ${axis}`;

  test(`training mode ${label}: output, running statistics and gradients agree with TensorFlow.js (1e-5)`, (t) => {
    const x = input("x", shape);
    const p = params(c);
    const { y, mean, variance } = batchNormTraining(x, p, o);
    const r = input("r", shape);
    const l = reduce("sum", binary("mul", y, r), shape.map((_, i) => i));
    const g: Graph = { name: "bn", inputs: [x, p.scale, p.shift, p.mean, p.variance, r] as never, outputs: [{ name: "y", node: y }, { name: "mean", node: mean }, { name: "variance", node: variance }, { name: "l", node: l }] };
    const f = feeds(new Random(axis, shape.length), shape, c);
    const out = lowerAndRun(grad(g, { output: "l", inputs: ["x", "scale", "shift"] }), f);

    const axes = shape.map((_, i) => i).filter((i) => i !== axis);
    const reference = tf.tidy(() => {
      const [tx, tr, scale, shift, rMean, rVar] = ["x", "r", "scale", "shift", "mean", "variance"].map((k) => f32(f.get(k)!));
      const fn = (xx: tf.Tensor, s: tf.Tensor, b: tf.Tensor) => {
        const m = tf.moments(xx, axes, true);
        return tfNormalize(xx, m.mean, m.variance, spread(b, shape.length, axis), spread(s, shape.length, axis), o.epsilon);
      };
      const m = tf.moments(tx!, axes);
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => fn(a, b, d).mul(tr!).sum())([tx!, scale!, shift!]);
      return {
        y: fn(tx!, scale!, shift!).dataSync(),
        mean: rMean!.mul(o.momentum).add(m.mean.mul(1 - o.momentum)).dataSync(),
        variance: rVar!.mul(o.momentum).add(m.variance.mul(1 - o.momentum)).dataSync(),
        dx: grads[0]!.dataSync(),
        dscale: grads[1]!.dataSync(),
        dshift: grads[2]!.dataSync(),
      };
    });
    const check = (what: string, got: NDArray, want: ArrayLike<number>) => {
      const err = relativeError(got.data, want);
      t.true(err <= 1e-5, `${what}: relative error ${err.toExponential(2)}`);
    };
    check("y", out.get("y")!, reference.y);
    check("running mean", out.get("mean")!, reference.mean);
    check("running variance", out.get("variance")!, reference.variance);
    check("dx", out.get(gradName("x"))!, reference.dx);
    check("dscale", out.get(gradName("scale"))!, reference.dscale);
    check("dshift", out.get(gradName("shift"))!, reference.dshift);
  });

  test(`training mode ${label}: gradients match finite differences in float64 (1e-6)`, (t) => {
    const fixed = feeds(new Random(7, axis), shape, c);
    checkGradient(
      t,
      {
        inputs: [{ name: "x", shape }, { name: "scale", shape: [c], domain: POSITIVE }, { name: "shift", shape: [c] }],
        fixed: new Map([["mean", fixed.get("mean")!], ["variance", fixed.get("variance")!]]),
        build: ([x, scale, shift], m) => batchNormTraining(x!, { scale: scale!, shift: shift!, mean: m.get("mean")!, variance: m.get("variance")! }, o).y,
      },
      axis + 11,
    );
  });

  test(`inference mode ${label}: normalizes with the running statistics like TensorFlow.js`, (t) => {
    const x = input("x", shape);
    const p = params(c);
    const g: Graph = { name: "bn", inputs: [x, p.scale, p.shift, p.mean, p.variance] as never, outputs: [{ name: "y", node: batchNormInference(x, p, o) }] };
    const f = feeds(new Random(3, axis), shape, c);
    const got = lowerAndRun(g, f).get("y")!;
    const want = tf.tidy(() => {
      const [tx, scale, shift, m, v] = ["x", "scale", "shift", "mean", "variance"].map((k) => f32(f.get(k)!));
      const r = shape.length;
      return tfNormalize(tx!, spread(m!, r, axis), spread(v!, r, axis), spread(shift!, r, axis), spread(scale!, r, axis), o.epsilon).dataSync();
    });
    t.true(relativeError(got.data, want) <= 1e-5);
  });
}
