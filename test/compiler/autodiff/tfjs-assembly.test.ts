// TensorFlow.js (cpu backend) as an independent reference for the indexing
// and assembly ops and their gradients, on every backend: slice (negative
// begin, size -1), pad, concat, stack, split, gather (repeated indices),
// cumsum and clip. dlc's graph and its symbolic gradient run on the reference
// evaluator (float64), the CPU interpreter (float32, fused) and WebGPU (fused
// and unfused); each is held to TF.js's values and tf.grads. The gradient is
// of sum(f(xs) * r) for a random r, so every output element matters.

import test from "ava";
import * as tf from "@tensorflow/tfjs";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { binary, reduce } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { everyBackend } from "../../helpers/backends.js";
import { closeGpu } from "../../helpers/gpu.js";
import { input, relativeError, sample } from "../../helpers/gradcheck.js";

test.before(async () => {
  tf.enableProdMode();
  await tf.setBackend("cpu");
});
test.after.always(closeGpu);

/** TF.js computes in float32; these ops move values or add a few of them. */
const TOL = 1e-5;

interface Case {
  readonly what: string;
  /** Differentiated inputs. */
  readonly xs: readonly number[][];
  /** i32 inputs, with the bound of their values. */
  readonly ints?: readonly { shape: number[]; below: number }[];
  readonly dlc: (xs: Node[], ints: Node[]) => Node;
  readonly tf: (xs: tf.Tensor[], ints: tf.Tensor[]) => tf.Tensor;
}

const CASES: Case[] = [
  {
    what: "slice [5, 7, 4] at [1, -5, 0] size [3, -1, 2]",
    xs: [[5, 7, 4]],
    dlc: ([x]) => ops.slice(x!, [1, -5, 0], [3, -1, 2]),
    tf: ([x]) => tf.slice(x!, [1, 2, 0], [3, 5, 2]),
  },
  {
    what: "pad [3, 4] by [[1, 2], [0, 3]] with 0.5",
    xs: [[3, 4]],
    dlc: ([x]) => ops.pad(x!, [[1, 2], [0, 3]], 0.5),
    tf: ([x]) => tf.pad(x!, [[1, 2], [0, 3]], 0.5),
  },
  {
    what: "concat [2, 3, 4], [2, 1, 4], [2, 5, 4] along axis 1",
    xs: [[2, 3, 4], [2, 1, 4], [2, 5, 4]],
    dlc: (xs) => ops.concat(xs, 1),
    tf: (xs) => tf.concat(xs, 1),
  },
  {
    what: "concat of a slice of itself along the last axis (a value read twice)",
    xs: [[3, 6]],
    dlc: ([x]) => ops.concat([x!, ops.slice(x!, [0, 2], [-1, 3])], -1),
    tf: ([x]) => tf.concat([x!, tf.slice(x!, [0, 2], [-1, 3])], -1),
  },
  {
    what: "stack three [3, 5] along axis 1",
    xs: [[3, 5], [3, 5], [3, 5]],
    dlc: (xs) => ops.stack(xs, 1),
    tf: (xs) => tf.stack(xs, 1),
  },
  {
    what: "split [3, 9, 2] into [2, 3, 4] along axis 1, joined in another order",
    xs: [[3, 9, 2]],
    dlc: ([x]) => {
      const [a, b, c] = ops.split(x!, [2, 3, 4], 1);
      return ops.concat([c!, a!, b!], 1);
    },
    tf: ([x]) => {
      const [a, b, c] = tf.split(x!, [2, 3, 4], 1);
      return tf.concat([c!, a!, b!], 1);
    },
  },
  {
    what: "gather rows of [11, 6] by [3, 4] indices with repeats",
    xs: [[11, 6]],
    ints: [{ shape: [3, 4], below: 4 }],
    dlc: ([x], [i]) => ops.gather(x!, i!, 0),
    tf: ([x], [i]) => tf.gather(x!, i!, 0),
  },
  {
    what: "gather along axis 1 of [3, 7, 2] by [5]",
    xs: [[3, 7, 2]],
    ints: [{ shape: [5], below: 7 }],
    dlc: ([x], [i]) => ops.gather(x!, i!, 1),
    tf: ([x], [i]) => tf.gather(x!, i!, 1),
  },
  {
    what: "cumsum of [4, 13] along the last axis, exclusive and reversed",
    xs: [[4, 13]],
    dlc: ([x]) => ops.cumsum(x!, 1, true, true),
    tf: ([x]) => tf.cumsum(x!, 1, true, true),
  },
  {
    what: "cumsum of [6, 5] along the last axis",
    xs: [[6, 5]],
    dlc: ([x]) => ops.cumsum(x!, 1),
    tf: ([x]) => tf.cumsum(x!, 1),
  },
  {
    what: "clip [7, 9] to [-0.5, 0.7]",
    xs: [[7, 9]],
    dlc: ([x]) => ops.clip(x!, -0.5, 0.7),
    tf: ([x]) => tf.clipByValue(x!, -0.5, 0.7),
  },
];

for (const [k, c] of CASES.entries()) {
  test.serial(`${c.what}: values and gradients match TF.js on every backend`, async (t) => {
    const rng = new Random(k, 71);
    const xs = c.xs.map((shape, i) => input(`x${i}`, shape));
    const ints = (c.ints ?? []).map((s, i) => input(`i${i}`, s.shape, "i32"));
    const y = c.dlc(xs, ints);
    const r = input("r", y.shape as number[]);
    const l = reduce("sum", binary("mul", y, r), y.shape.map((_, i) => i));
    const forward: Graph = { name: "f", inputs: [...xs, ...ints, r] as never, outputs: [{ name: "y", node: y }, { name: "l", node: l }] };
    const g = grad(forward, { output: "l", inputs: xs.map((_, i) => `x${i}`) });

    const feeds = new Map<string, NDArray>();
    c.xs.forEach((shape, i) => feeds.set(`x${i}`, { shape, data: sample(rng, shape) }));
    (c.ints ?? []).forEach((s, i) => feeds.set(`i${i}`, { shape: s.shape, data: Int32Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => rng.int(s.below)) }));
    feeds.set("r", { shape: y.shape as number[], data: sample(rng, y.shape as number[]) });

    const want = tf.tidy(() => {
      const txs = c.xs.map((shape, i) => tf.tensor(Float32Array.from(feeds.get(`x${i}`)!.data), shape));
      const tints = (c.ints ?? []).map((s, i) => tf.tensor(feeds.get(`i${i}`)!.data, s.shape, "int32"));
      const tr = tf.tensor(Float32Array.from(feeds.get("r")!.data), y.shape as number[]);
      const value = c.tf(txs, tints);
      t.deepEqual([...y.shape], value.shape, "output shape");
      const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.tf(args, tints), tr)))(txs);
      return { y: Float32Array.from(value.dataSync()), dxs: grads.map((d) => Float32Array.from(d.dataSync())) };
    });

    for (const run of await everyBackend(t, g, feeds)) {
      const tol = TOL * run.slack;
      const check = (name: string, ref: Float32Array) => {
        const err = relativeError(run.outputs.get(name)!.data, ref);
        t.true(err <= tol, `${run.what}: ${name} relative error ${err.toExponential(2)} > ${tol}`);
      };
      check("y", want.y);
      want.dxs.forEach((d, i) => check(gradName(`x${i}`), d));
    }
  });
}
