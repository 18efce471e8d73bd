// TensorFlow.js (cpu backend) as an independent reference for the
// convolutions: tf.conv2d with dilations, tf.depthwiseConv2d, tf.conv1d and
// tf.conv2dTranspose, values and tf.grads with respect to the input and the
// kernel, on random inputs of odd and prime sizes. dlc's graph and its
// symbolic gradient run four ways, each held to the reference: the reference
// evaluator (float64, unfused), the CPU interpreter (float32, fused), and
// WebGPU fused and unfused. The gradient is of sum(f(x, k) * r) for a random
// r, so every output element matters.
//
// TF.js 4.22 refuses gradients of dilated convolutions ("dilation rates
// greater than 1 are not yet supported in gradients") and dilation together
// with a stride, and it has no groups. Its reference for those is built from
// differentiable TF.js ops: the kernel with dilation - 1 zeros stacked between
// taps (a dense kernel that convolves like the dilated one), and groups as
// convolutions of slices of the channels, concatenated. Where TF.js can
// compute a dilated forward pass itself, that construction is first checked
// against it.

import test, { type ExecutionContext } from "ava";
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

/** TF.js computes in float32: sums of a few hundred products agree to about 1e-6. */
const TOL = 1e-5;

type Pair = [number, number];
type TfPad = "same" | "valid" | number | [[number, number], [number, number], [number, number], [number, number]];

/** dlc's padding as TF.js writes it. */
function tfPad(p: ops.Padding): TfPad {
  if (typeof p === "string" || typeof p === "number") return p;
  const [t, b, l, r] = p.length === 2 ? [p[0]!, p[0]!, p[1]!, p[1]!] : (p as number[]);
  return [[0, 0], [t!, b!], [l!, r!], [0, 0]];
}

const pairOf = (v: number | readonly number[] | undefined): Pair => (v === undefined ? [1, 1] : typeof v === "number" ? [v, v] : [v[0]!, v[1]!]);

/** Zeros between the taps along `axis`: k taps d apart as (k - 1) * d + 1 dense ones. */
function dilateAxis(k: tf.Tensor, axis: number, d: number): tf.Tensor {
  if (d === 1) return k;
  const zeros = tf.zerosLike(k);
  const stacked = tf.stack([k, ...Array.from({ length: d - 1 }, () => zeros)], axis + 1);
  const shape = [...k.shape];
  shape[axis] = shape[axis]! * d;
  const size = [...k.shape];
  size[axis] = (k.shape[axis]! - 1) * d + 1;
  return tf.slice(tf.reshape(stacked, shape), shape.map(() => 0), size);
}

const dilate = (k: tf.Tensor, [dh, dw]: Pair) => dilateAxis(dilateAxis(k, 0, dh), 1, dw);

/** f over `groups` slices of x's channels and of the kernel along `kernelAxis`, joined along the channels. */
function grouped(x: tf.Tensor, k: tf.Tensor, groups: number, kernelAxis: number, f: (x: tf.Tensor, k: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (groups === 1) return f(x, k);
  const xs = tf.split(x, groups, x.rank - 1);
  const ks = tf.split(k, groups, kernelAxis);
  return tf.concat(xs.map((xi, i) => f(xi, ks[i]!)), x.rank - 1);
}

interface Case {
  readonly what: string;
  readonly x: number[];
  readonly k: number[];
  readonly dlc: (x: Node, k: Node) => Node;
  readonly tf: (x: tf.Tensor, k: tf.Tensor) => tf.Tensor;
  /** TF.js's own dilated forward pass, where it has one: checks the zero-stuffed construction. */
  readonly tfDirect?: (x: tf.Tensor, k: tf.Tensor) => tf.Tensor;
}

function conv2dCase(x: number[], k: number[], o: ops.ConvOptions): Case {
  const [stride, dilation, groups, pad] = [pairOf(o.stride), pairOf(o.dilation), o.groups ?? 1, tfPad(o.padding ?? "valid")];
  const direct = groups === 1 && dilation.some((d) => d > 1) && stride.every((s) => s === 1);
  return {
    what: `conv2d x [${x}] k [${k}] ${JSON.stringify(o)}`,
    x,
    k,
    dlc: (xi, ki) => ops.conv2d(xi, ki, o),
    tf: (xt, kt) => grouped(xt, dilate(kt, dilation), groups, 3, (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)),
    ...(direct ? { tfDirect: (xt: tf.Tensor, kt: tf.Tensor) => tf.conv2d(xt as tf.Tensor4D, kt as tf.Tensor4D, 1, pad, "NHWC", dilation) } : {}),
  };
}

function depthwiseCase(x: number[], k: number[], o: Omit<ops.ConvOptions, "groups">): Case {
  const [stride, dilation, pad] = [pairOf(o.stride), pairOf(o.dilation), tfPad(o.padding ?? "valid")];
  const direct = dilation.some((d) => d > 1) && stride.every((s) => s === 1);
  return {
    what: `depthwiseConv2d x [${x}] k [${k}] ${JSON.stringify(o)}`,
    x,
    k,
    dlc: (xi, ki) => ops.depthwiseConv2d(xi, ki, o),
    tf: (xt, kt) => tf.depthwiseConv2d(xt as tf.Tensor4D, dilate(kt, dilation) as tf.Tensor4D, stride, pad),
    ...(direct ? { tfDirect: (xt: tf.Tensor, kt: tf.Tensor) => tf.depthwiseConv2d(xt as tf.Tensor4D, kt as tf.Tensor4D, 1, pad, "NHWC", dilation) } : {}),
  };
}

function conv1dCase(x: number[], k: number[], o: { stride?: number; padding?: ops.Padding; dilation?: number; groups?: number }): Case {
  const [stride, dilation, groups] = [o.stride ?? 1, o.dilation ?? 1, o.groups ?? 1];
  const p = o.padding ?? "valid";
  const pad: TfPad = typeof p === "string" || typeof p === "number" ? p : [[0, 0], [0, 0], [p[0]!, p[1]!], [0, 0]];
  const direct = groups === 1 && dilation > 1 && stride === 1;
  return {
    what: `conv1d x [${x}] k [${k}] ${JSON.stringify(o)}`,
    x,
    k,
    dlc: (xi, ki) => ops.conv1d(xi, ki, o),
    tf: (xt, kt) => grouped(xt, dilateAxis(kt, 0, dilation), groups, 2, (a, b) => tf.conv1d(a as tf.Tensor3D, b as tf.Tensor3D, stride, pad)),
    ...(direct ? { tfDirect: (xt: tf.Tensor, kt: tf.Tensor) => tf.conv1d(xt as tf.Tensor3D, kt as tf.Tensor3D, 1, pad, "NWC", dilation) } : {}),
  };
}

/** outputShape is TF's [batch, height, width, channels] here. */
function transposeCase(x: number[], k: number[], o: ops.TransposeOptions & { outputShape: [number, number, number, number] }): Case {
  const [stride, dilation, groups, pad] = [pairOf(o.stride), pairOf(o.dilation), o.groups ?? 1, tfPad(o.padding ?? "valid")];
  const [n, oh, ow, oc] = o.outputShape;
  const { outputShape: _, ...rule } = o;
  return {
    what: `conv2dTranspose x [${x}] k [${k}] ${JSON.stringify(o)}`,
    x,
    k,
    // Without outputShape when the size rule gives it, so that the rule is checked against TF.js too.
    dlc: (xi, ki) => {
      const byRule = ops.conv2dTranspose(xi, ki, rule);
      return byRule.shape[1] === oh && byRule.shape[2] === ow ? byRule : ops.conv2dTranspose(xi, ki, o);
    },
    tf: (xt, kt) => grouped(xt, dilate(kt, dilation), groups, 3, (a, b) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [n, oh, ow, oc / groups], stride, pad)),
  };
}

const CASES: Case[] = [
  conv2dCase([2, 11, 7, 3], [3, 3, 3, 5], { dilation: 2, padding: "same" }),
  conv2dCase([2, 13, 9, 4], [3, 2, 4, 6], { dilation: [2, 3], stride: [2, 1], padding: "same" }),
  conv2dCase([1, 17, 13, 2], [2, 3, 2, 3], { dilation: [3, 2], padding: [2, 1, 0, 3] }),
  conv2dCase([2, 9, 10, 6], [3, 3, 2, 9], { groups: 3, stride: 2, padding: "valid" }),
  conv2dCase([1, 7, 11, 5], [2, 3, 1, 5], { groups: 5, dilation: [3, 1], padding: [2, 1, 0, 3] }),
  conv2dCase([2, 8, 7, 4], [3, 3, 2, 6], { groups: 2, dilation: 2, stride: [1, 2], padding: "same" }),
  depthwiseCase([2, 11, 13, 3], [3, 3, 3, 2], { padding: "same" }),
  depthwiseCase([1, 13, 7, 5], [3, 3, 5, 1], { dilation: 2, padding: "same" }),
  depthwiseCase([2, 9, 9, 2], [5, 3, 2, 3], { stride: 2, dilation: [1, 2], padding: "valid" }),
  conv1dCase([3, 17, 4], [5, 4, 7], { dilation: 3, padding: "same" }),
  conv1dCase([2, 23, 3], [3, 3, 5], { stride: 2, padding: "valid" }),
  conv1dCase([2, 19, 6], [3, 2, 9], { groups: 3, dilation: 2, padding: [3, 1] }),
  transposeCase([2, 5, 7, 3], [3, 3, 4, 3], { stride: 2, padding: "same", outputShape: [2, 10, 14, 4] }),
  transposeCase([1, 4, 5, 5], [3, 2, 2, 5], { stride: [2, 3], padding: "valid", outputShape: [1, 9, 14, 2] }),
  transposeCase([2, 6, 5, 3], [3, 3, 2, 3], { dilation: 2, padding: "same", outputShape: [2, 6, 5, 2] }),
  transposeCase([1, 3, 4, 4], [3, 3, 3, 4], { stride: 2, groups: 2, padding: [1, 0, 1, 1], outputShape: [1, 6, 8, 6] }),
  // One more row and column than the rule's 8x8 (Keras' output_padding).
  transposeCase([2, 4, 4, 2], [3, 3, 3, 2], { stride: 2, padding: "same", outputShape: [2, 7, 8, 3] }),
];

interface Result {
  readonly y: ArrayLike<number>;
  readonly dx: ArrayLike<number>;
  readonly dk: ArrayLike<number>;
}

function reference(c: Case, x: NDArray, k: NDArray, r: NDArray): Result {
  return tf.tidy(() => {
    const [tx, tk, tr] = [x, k, r].map((a) => tf.tensor(Float32Array.from(a.data), [...a.shape]));
    const y = c.tf(tx!, tk!);
    const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(c.tf(a, b), tr!)))([tx!, tk!]);
    return { y: Float32Array.from(y.dataSync()), dx: Float32Array.from(dx!.dataSync()), dk: Float32Array.from(dk!.dataSync()) };
  });
}

/** dlc's f(x, k) and d/dx, d/dk of sum(f(x, k) * r), as one graph. */
function dlcGraph(c: Case): Graph {
  const [x, k] = [input("x", c.x), input("k", c.k)];
  const y = c.dlc(x, k);
  const r = input("r", y.shape as number[]);
  const l = reduce("sum", binary("mul", y, r), y.shape.map((_, i) => i));
  const g: Graph = { name: "f", inputs: [x, k, r] as never, outputs: [{ name: "y", node: y }, { name: "l", node: l }] };
  return grad(g, { output: "l", inputs: ["x", "k"] });
}

function compare(t: ExecutionContext, what: string, got: ReadonlyMap<string, NDArray>, want: Result, tol: number): void {
  for (const [name, ref] of [["y", want.y], [gradName("x"), want.dx], [gradName("k"), want.dk]] as const) {
    const err = relativeError(got.get(name)!.data, ref);
    t.true(err <= tol, `${what}: ${name} relative error ${err.toExponential(2)} > ${tol}`);
  }
}

for (const [i, c] of CASES.entries()) {
  test.serial(`${c.what}: values and gradients match TF.js on the CPU (float64 and fused float32) and on WebGPU (fused and unfused)`, async (t) => {
    const rng = new Random(i, 61);
    const g = dlcGraph(c);
    const y = g.outputs.find((o) => o.name === "y")!.node;
    const feeds = new Map<string, NDArray>([
      ["x", { shape: c.x, data: sample(rng, c.x) }],
      ["k", { shape: c.k, data: sample(rng, c.k) }],
      ["r", { shape: y.shape as number[], data: sample(rng, y.shape as number[]) }],
    ]);
    const want = reference(c, feeds.get("x")!, feeds.get("k")!, feeds.get("r")!);
    t.deepEqual([...y.shape], [...tf.tidy(() => c.tf(tf.zeros(c.x), tf.zeros(c.k)).shape)], "output shape");
    if (c.tfDirect) {
      const direct = tf.tidy(() => Float32Array.from(c.tfDirect!(tf.tensor(Float32Array.from(feeds.get("x")!.data), c.x), tf.tensor(Float32Array.from(feeds.get("k")!.data), c.k)).dataSync()));
      t.true(relativeError(direct, want.y) <= 1e-6, "TF.js's own dilated convolution agrees with the zero-stuffed kernel");
    }
    for (const run of await everyBackend(t, g, feeds)) compare(t, run.what, run.outputs, want, run.slack * TOL);
  });
}
