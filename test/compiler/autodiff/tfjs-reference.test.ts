// TensorFlow.js (cpu backend) as an independent reference for gather and
// cumsum: forward values and gradients on random inputs, against dlc's graph
// and its symbolic gradient run by the reference evaluator. The gradient is
// of sum(f(x) * r) for a random r, so every output element matters. Indices
// are in range here: clamping is dlc's rule, where TF.js has its own.

import test from "ava";
import * as tf from "@tensorflow/tfjs";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import { binary, reduce } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { input, relativeError, sample } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

test.before(async () => {
  tf.enableProdMode();
  await tf.setBackend("cpu");
});

const TOL = 1e-5;

/** dlc's f(x) and d/dx sum(f(x) * r), in float64. */
function dlc(shape: number[], f: (x: Node, fixed: Map<string, Node>) => Node, feeds: Map<string, NDArray>, fixed: Map<string, Node>): { y: NDArray; dx: NDArray } {
  const x = input("x", shape);
  const y = f(x, fixed);
  const r = input("r", y.shape as number[]);
  const l = reduce("sum", binary("mul", y, r), y.shape.map((_, i) => i));
  const g: Graph = { name: "f", inputs: [x, r, ...fixed.values()] as never, outputs: [{ name: "y", node: y }, { name: "l", node: l }] };
  const out = lowerAndRun(grad(g, { output: "l", inputs: ["x"] }), feeds);
  return { y: out.get("y")!, dx: out.get(gradName("x"))! };
}

function tfjs(x: NDArray, r: NDArray, f: (x: tf.Tensor) => tf.Tensor): { y: Float32Array; dx: Float32Array } {
  return tf.tidy(() => {
    const tx = tf.tensor(Float32Array.from(x.data), [...x.shape]);
    const tr = tf.tensor(Float32Array.from(r.data), [...r.shape]);
    const y = f(tx).dataSync() as Float32Array;
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), tr)))(tx).dataSync() as Float32Array;
    return { y: Float32Array.from(y), dx: Float32Array.from(dx) };
  });
}

const CASES: { table: number[]; ids: number[]; axis: number }[] = [
  { table: [10, 4], ids: [6], axis: 0 },
  { table: [7, 3], ids: [2, 5], axis: 0 },
  { table: [3, 5, 2], ids: [8], axis: 1 },
  { table: [2, 3, 6], ids: [4, 2], axis: 2 },
];

for (const [c, { table, ids, axis }] of CASES.entries()) {
  test(`gather [${table}] by [${ids}] along axis ${axis}: values and the table's gradient match TF.js`, (t) => {
    const rng = new Random(c, 21);
    const n = table[axis]!;
    // Few distinct indices, so repeats are certain.
    const indices: NDArray = { shape: ids, data: Int32Array.from({ length: ids.reduce((a, b) => a * b, 1) }, () => rng.int(Math.min(n, 3))) };
    const x: NDArray = { shape: table, data: sample(rng, table) };
    const yShape = [...table.slice(0, axis), ...ids, ...table.slice(axis + 1)];
    const r: NDArray = { shape: yShape, data: sample(rng, yShape) };
    const fixed = new Map([["i", input("i", ids, "i32")]]);
    const mine = dlc(table, (v, f) => ops.gather(v, f.get("i")!, axis), new Map([["x", x], ["r", r], ["i", indices]]), fixed);
    const ref = tfjs(x, r, (v) => tf.gather(v, tf.tensor(indices.data, ids, "int32"), axis));
    t.true(relativeError(mine.y.data, ref.y) <= TOL, "values");
    t.true(relativeError(mine.dx.data, ref.dx) <= TOL, `gradient: ${relativeError(mine.dx.data, ref.dx)}`);
  });
}

/**
 * tf.cumsum along `axis`, as a cumsum along the last axis between
 * transposes: TF.js 4.22's Cumsum gradient returns a wrongly shaped gradient
 * along other axes of rank > 1 ("The gradient of input 'x' has shape
 * '2,9,3'"), while its forward values and last-axis gradient are right.
 */
function lastAxisCumsum(v: tf.Tensor, axis: number, exclusive: boolean, reverse: boolean): tf.Tensor {
  const last = v.rank - 1;
  if (axis === last) return tf.cumsum(v, axis, exclusive, reverse);
  const perm = [...Array(v.rank).keys()];
  [perm[axis], perm[last]] = [perm[last]!, perm[axis]!];
  return tf.transpose(tf.cumsum(tf.transpose(v, perm), last, exclusive, reverse), perm);
}

for (const [c, shape] of [[5], [4, 7], [3, 2, 9]].entries()) {
  for (const exclusive of [false, true]) {
    for (const reverse of [false, true]) {
      test(`cumsum of [${shape}] (exclusive ${exclusive}, reverse ${reverse}) along each axis: values and gradient match TF.js`, (t) => {
        for (let axis = 0; axis < shape.length; axis++) {
          const rng = new Random(c, 31 + axis);
          const x: NDArray = { shape, data: sample(rng, shape) };
          const r: NDArray = { shape, data: sample(rng, shape) };
          const mine = dlc(shape, (v) => ops.cumsum(v, axis, exclusive, reverse), new Map([["x", x], ["r", r]]), new Map());
          const direct = tf.tidy(() => tf.cumsum(tf.tensor(Float32Array.from(x.data), shape), axis, exclusive, reverse).dataSync());
          t.true(relativeError(mine.y.data, Float32Array.from(direct)) <= TOL, `axis ${axis}: values of tf.cumsum itself`);
          const ref = tfjs(x, r, (v) => lastAxisCumsum(v, axis, exclusive, reverse));
          t.true(relativeError(mine.y.data, ref.y) <= TOL, `axis ${axis}: values`);
          t.true(relativeError(mine.dx.data, ref.dx) <= TOL, `axis ${axis}: gradient`);
        }
      });
    }
  }
}
