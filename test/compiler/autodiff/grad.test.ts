// Every op of the language differentiates correctly: the symbolic gradient,
// evaluated in float64, matches central finite differences (h = 1e-5) to a
// normwise relative error of 1e-6, on random inputs of random small shapes.
// Inputs are kept away from kinks (|x| = 0 for abs, ties for max/min/pooling)
// where finite differences are meaningless; what happens exactly at the kinks
// is pinned separately below.

import test from "ava";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";
import type { Node } from "../../../compiler/ir/node.js";
import { make } from "../../../compiler/ops/make.js";
import * as ops from "../../../compiler/ops/composite.js";
import { broadcastTo, full, reduce, binary, unary, matmul as matmulPrim } from "../../../compiler/ops/build.js";
import { Random } from "../../../runtime/random.js";
import { ANY, AWAY_FROM_ZERO, POSITIVE, checkGradient, input, relativeError, type Domain } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

const TRIALS = 3;

function randomShape(rng: Random, rank: number, max = 4): number[] {
  return Array.from({ length: rank }, () => 1 + rng.int(max));
}

/** A shape that broadcasts against `shape`: some axes dropped from the left, some set to 1. */
function broadcastable(rng: Random, shape: readonly number[]): number[] {
  const drop = rng.int(shape.length);
  return shape.slice(drop).map((d) => (rng.uniform() < 0.4 ? 1 : d));
}

function unaryCase(name: string, f: (x: Node) => Node, domain: Domain = ANY) {
  for (let trial = 0; trial < TRIALS; trial++) {
    test(`${name} (trial ${trial})`, (t) => {
      const rng = new Random(trial, name.length);
      const shape = randomShape(rng, 1 + rng.int(3));
      checkGradient(t, { inputs: [{ name: "x", shape, domain }], build: ([x]) => f(x!) }, trial);
    });
  }
}

function binaryCase(name: string, f: (a: Node, b: Node) => Node, da: Domain = ANY, db: Domain = ANY) {
  for (let trial = 0; trial < TRIALS; trial++) {
    test(`${name} with broadcasting (trial ${trial})`, (t) => {
      const rng = new Random(trial, 100 + name.length);
      const a = randomShape(rng, 1 + rng.int(3));
      const b = broadcastable(rng, a);
      const [sa, sb] = trial % 2 === 0 ? [a, b] : [b, a];
      checkGradient(t, { inputs: [{ name: "a", shape: sa, domain: da }, { name: "b", shape: sb, domain: db }], build: ([x, y]) => f(x!, y!) }, trial);
    });
  }
}

// ---------------------------------------------------------------- elementwise

unaryCase("neg", (x) => ops.unaryOp("neg", x));
unaryCase("exp", (x) => ops.unaryOp("exp", x));
unaryCase("log", (x) => ops.unaryOp("log", x), POSITIVE);
unaryCase("sqrt", (x) => ops.unaryOp("sqrt", x), POSITIVE);
unaryCase("tanh", (x) => ops.unaryOp("tanh", x));
unaryCase("abs away from 0", (x) => ops.unaryOp("abs", x), AWAY_FROM_ZERO);
unaryCase("sin", (x) => ops.unaryOp("sin", x));
unaryCase("cos", (x) => ops.unaryOp("cos", x));
unaryCase("erf", (x) => ops.unaryOp("erf", x));
unaryCase("softplus", (x) => ops.unaryOp("softplus", x), { lo: -6, hi: 6 });
unaryCase("log1p", (x) => ops.unaryOp("log1p", x), { lo: -0.8, hi: 3 });
unaryCase("expm1", (x) => ops.unaryOp("expm1", x));
unaryCase("gelu, exact (erf form)", (x) => ops.gelu(x, false));
unaryCase("relu away from 0", (x) => ops.relu(x), AWAY_FROM_ZERO);
unaryCase("sigmoid", (x) => ops.sigmoid(x));
unaryCase("gelu", (x) => ops.gelu(x));
unaryCase("x ** 3 (constant exponent, negative bases)", (x) => ops.binaryOp("pow", x, 3));
unaryCase("x ** 0.5 (constant exponent)", (x) => ops.binaryOp("pow", x, 0.5), POSITIVE);
unaryCase("2 ** x (tensor exponent)", (x) => ops.binaryOp("pow", 2, x));
unaryCase("scalar arithmetic 2 * x - 1 / x", (x) => ops.binaryOp("sub", ops.binaryOp("mul", 2, x), ops.binaryOp("div", 1, x)), AWAY_FROM_ZERO);

binaryCase("add", (a, b) => ops.binaryOp("add", a, b));
binaryCase("sub", (a, b) => ops.binaryOp("sub", a, b));
binaryCase("mul", (a, b) => ops.binaryOp("mul", a, b));
binaryCase("div", (a, b) => ops.binaryOp("div", a, b), ANY, AWAY_FROM_ZERO);
binaryCase("pow with a tensor exponent", (a, b) => ops.binaryOp("pow", a, b), POSITIVE);
// a in [-2, -0.5] and b in [0.5, 2] never tie.
binaryCase("maximum", (a, b) => ops.binaryOp("maximum", a, b), { lo: -2, hi: -0.5 }, { lo: 0.5, hi: 2 });
binaryCase("minimum", (a, b) => ops.binaryOp("minimum", a, b), { lo: 0.5, hi: 2 }, { lo: -2, hi: -0.5 });
binaryCase("where(greater(a, 0), a * b, -b)", (a, b) => ops.where(ops.binaryOp("greater", a, 0), ops.binaryOp("mul", a, b), ops.unaryOp("neg", b)), AWAY_FROM_ZERO);

test("integer results pass no gradient: sign, comparisons, casts from i32", (t) => {
  checkGradient(t, {
    inputs: [{ name: "x", shape: [3, 2], domain: AWAY_FROM_ZERO }],
    build: ([x]) => ops.binaryOp("mul", x!, ops.binaryOp("add", ops.unaryOp("sign", x!), make("cast", [ops.binaryOp("greater", x!, 0)], { to: "f32" }))),
  }, 7);
});

// ---------------------------------------------------------------- reductions

for (let trial = 0; trial < TRIALS; trial++) {
  const rng = new Random(trial, 300);
  const shape = randomShape(rng, 3);
  const axes = [0, 1, 2].filter(() => rng.uniform() < 0.5);
  const keep = rng.uniform() < 0.5;
  test(`sum over [${axes}] of [${shape}], keepDims ${keep}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.sum(x!, axes, keep) }, trial));
  test(`mean over [${axes}] of [${shape}], keepDims ${keep}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.mean(x!, axes, keep) }, trial));
  test(`max over [${axes}] of [${shape}]`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.max(x!, axes) }, trial));
  test(`min over [${axes}] of [${shape}]`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.min(x!, axes, true) }, trial));
  test(`logSumExp over [${axes}] of [${shape}]`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.logSumExp(x!, axes) }, trial));
}

test("mean over a symbolic batch divides by the run-time batch size", (t) => {
  const x = make("input", [], { name: "x", shape: ["batch", 3], dtype: "f32" });
  const m = ops.mean(ops.binaryOp("mul", x, x));
  const g = grad({ name: "f", inputs: [x], outputs: [{ name: "m", node: m }] }, { inputs: ["x"] });
  const data = Float64Array.from([1, 2, 3, 4, 5, 6]);
  const out = lowerAndRun(g, new Map([["x", { shape: [2, 3], data }]]));
  t.is(out.get("m")!.data[0], 91 / 6);
  t.true(relativeError(out.get(gradName("x"))!.data, data.map((v) => (2 * v) / 6)) < 1e-15);
});

// ---------------------------------------------------------------- movement

for (let trial = 0; trial < TRIALS; trial++) {
  const rng = new Random(trial, 400);
  const shape = randomShape(rng, 3);
  const perm = rng.permutation(3);
  test(`transpose [${shape}] by [${[...perm]}]`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.transpose(x!, [...perm]) }, trial));
  test(`reshape [${shape}] to [-1, ${shape[2]}]`, (t) => checkGradient(t, { inputs: [{ name: "x", shape }], build: ([x]) => ops.reshapeTo(x!, [-1, shape[2]!]) }, trial));
  test(`broadcastTo from [${shape.slice(1)}] with size-1 axes`, (t) => {
    const small = [1, shape[2]!];
    checkGradient(t, { inputs: [{ name: "x", shape: small }], build: ([x]) => broadcastTo(x!, [2, ...[shape[1]!, shape[2]!]]) }, trial);
  });
}

// ---------------------------------------------------------------- matmul, every layout

for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    test(`matmul primitive transA=${transA} transB=${transB}`, (t) => {
      const [m, k, n] = [3, 4, 2];
      checkGradient(t, {
        inputs: [
          { name: "a", shape: transA ? [k, m] : [m, k] },
          { name: "b", shape: transB ? [n, k] : [k, n] },
        ],
        build: ([a, b]) => matmulPrim(a!, b!, transA, transB),
      }, 11);
    });
    test(`batched matmul primitive transA=${transA} transB=${transB}`, (t) => {
      const [bt, m, k, n] = [2, 3, 2, 4];
      checkGradient(t, {
        inputs: [
          { name: "a", shape: transA ? [bt, k, m] : [bt, m, k] },
          { name: "b", shape: transB ? [bt, n, k] : [bt, k, n] },
        ],
        build: ([a, b]) => matmulPrim(a!, b!, transA, transB),
      }, 12);
    });
  }
}

const matmulShapes: [number[], number[]][] = [
  [[4], [4, 3]],
  [[2, 4], [4]],
  [[4], [4]],
  [[2, 1, 3, 4], [5, 4, 2]],
];
for (const [a, b] of matmulShapes) {
  test(`matmul [${a}] @ [${b}] (vectors, broadcast batches)`, (t) => checkGradient(t, { inputs: [{ name: "a", shape: a }, { name: "b", shape: b }], build: ([x, y]) => ops.matmul(x!, y!) }, 13));
}

// ---------------------------------------------------------------- convolution and pooling

const convCases: { x: number[]; k: number[]; stride: number | number[]; padding: ops.Padding }[] = [
  { x: [2, 5, 5, 2], k: [3, 3, 2, 3], stride: 1, padding: "same" },
  { x: [1, 6, 5, 1], k: [3, 2, 1, 2], stride: 2, padding: "valid" },
  { x: [2, 7, 6, 3], k: [3, 3, 3, 2], stride: [2, 1], padding: "same" },
  { x: [1, 4, 4, 2], k: [2, 2, 2, 2], stride: 1, padding: [1, 0, 2, 1] },
  { x: [1, 5, 5, 1], k: [1, 1, 1, 4], stride: 3, padding: 1 },
];
for (const c of convCases) {
  const label = `x [${c.x}] k [${c.k}] stride ${JSON.stringify(c.stride)} padding ${JSON.stringify(c.padding)}`;
  test(`conv2d ${label}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape: c.x }, { name: "k", shape: c.k }], build: ([x, k]) => ops.conv2d(x!, k!, c.stride, c.padding) }, 21));
  // The conv gradients are primitives too; their own VJPs make second derivatives work.
  test(`conv2dInputGrad and conv2dFilterGrad differentiate, ${label}`, (t) => {
    const probe = ops.conv2d(input("x", c.x), input("k", c.k), c.stride, c.padding);
    if (probe.op !== "conv2d") return t.fail();
    const geometry = probe.attrs;
    const dy = probe.shape.map(Number);
    checkGradient(t, {
      inputs: [{ name: "dy", shape: dy }, { name: "k", shape: c.k }],
      build: ([g, k]) => make("conv2dInputGrad", [g!, k!], { ...geometry, inputSize: [c.x[1]!, c.x[2]!] }),
    }, 22);
    checkGradient(t, {
      inputs: [{ name: "x", shape: c.x }, { name: "dy", shape: dy }],
      build: ([x, g]) => make("conv2dFilterGrad", [x!, g!], { ...geometry, kernelSize: [c.k[0]!, c.k[1]!] }),
    }, 23);
  });
}

const poolCases: { x: number[]; size: number | number[]; stride?: number; padding: ops.Padding }[] = [
  { x: [2, 4, 4, 3], size: 2, padding: "valid" },
  { x: [1, 5, 5, 2], size: 3, stride: 2, padding: "same" },
  { x: [1, 6, 5, 1], size: [2, 3], stride: 1, padding: "valid" },
  { x: [2, 3, 3, 1], size: 2, stride: 1, padding: [1, 0, 1, 0] },
];
for (const c of poolCases) {
  const label = `x [${c.x}] size ${JSON.stringify(c.size)} stride ${c.stride ?? "=size"} padding ${JSON.stringify(c.padding)}`;
  test(`maxPool2d ${label}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape: c.x }], build: ([x]) => ops.pool("maxPool2d", x!, c.size, c.stride, c.padding) }, 31));
  test(`avgPool2d ${label}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape: c.x }], build: ([x]) => ops.pool("avgPool2d", x!, c.size, c.stride, c.padding) }, 32));
}

// ---------------------------------------------------------------- composites

const labels = { shape: [4], data: Int32Array.from([2, 0, 4, 1]) };
unaryCase("softmax", (x) => ops.softmax(x));
unaryCase("logSoftmax over axis 0", (x) => ops.logSoftmax(x, 0));
unaryCase("layerNorm", (x) => ops.layerNorm(x, 1e-3));
test("softmaxCrossEntropy", (t) =>
  checkGradient(t, { inputs: [{ name: "z", shape: [4, 5] }], fixed: new Map([["y", labels]]), build: ([z], f) => ops.softmaxCrossEntropy(z!, f.get("y")!) }, 41));
test("cross-entropy written by hand with oneHot, max and logs", (t) =>
  checkGradient(t, {
    inputs: [{ name: "z", shape: [4, 5] }],
    fixed: new Map([["y", labels]]),
    build: ([z], f) => {
      const shifted = ops.binaryOp("sub", z!, ops.max(z!, [-1], true));
      const logp = ops.binaryOp("sub", shifted, ops.unaryOp("log", ops.sum(ops.unaryOp("exp", shifted), [-1], true)));
      return ops.unaryOp("neg", ops.mean(ops.sum(ops.binaryOp("mul", ops.oneHot(f.get("y")!, 5), logp), [-1])));
    },
  }, 42));
test("mse", (t) => checkGradient(t, { inputs: [{ name: "p", shape: [5, 1] }, { name: "y", shape: [5, 1] }], build: ([p, y]) => ops.mse(p!, y!) }, 43));

// ---------------------------------------------------------------- conventions at kinks

function gradAt(build: (x: Node) => Node, xs: number[]): number[] {
  const x = input("x", [xs.length]);
  const out = build(x);
  const y = reduce("sum", out, out.shape.map((_, i) => i));
  const g = grad({ name: "f", inputs: [x] as never, outputs: [{ name: "y", node: y }] }, { inputs: ["x"] });
  return [...lowerAndRun(g, new Map([["x", { shape: [xs.length], data: Float64Array.from(xs) }]])).get(gradName("x"))!.data];
}

test("relu'(0) = 0 and abs'(0) = 0", (t) => {
  t.deepEqual(gradAt((x) => ops.relu(x), [-1, 0, 1]), [0, 0, 1]);
  t.deepEqual(gradAt((x) => ops.unaryOp("abs", x), [-1, 0, 1]), [-1, 0, 1]);
});

test("maximum and minimum give the whole gradient to the second operand on ties", (t) => {
  const two = (x: Node) => full(2, x.shape);
  t.deepEqual(gradAt((x) => ops.binaryOp("maximum", x, two(x)), [1, 2, 3]), [0, 0, 1]);
  t.deepEqual(gradAt((x) => ops.binaryOp("maximum", two(x), x), [1, 2, 3]), [0, 1, 1]);
  t.deepEqual(gradAt((x) => ops.binaryOp("minimum", x, two(x)), [1, 2, 3]), [1, 0, 0]);
});

test("a max reduction splits the gradient evenly among tied maxima", (t) => {
  t.deepEqual(gradAt((x) => ops.max(x, [0]), [3, 1, 3, 3]), [1 / 3, 0, 1 / 3, 1 / 3]);
});

test("max pooling sends each window's gradient to its first maximal element", (t) => {
  const x = input("x", [1, 2, 2, 1]);
  const y = reduce("sum", ops.pool("maxPool2d", x, 2), [0, 1, 2, 3]);
  const g = grad({ name: "f", inputs: [x] as never, outputs: [{ name: "y", node: y }] }, { inputs: ["x"] });
  const out = lowerAndRun(g, new Map([["x", { shape: [1, 2, 2, 1], data: Float64Array.from([5, 5, 1, 5]) }]]));
  t.deepEqual([...out.get(gradName("x"))!.data], [1, 0, 0, 0]);
});

// ---------------------------------------------------------------- second derivatives

test("differentiating twice: the gradient of |grad f|^2 matches finite differences", (t) => {
  // f(x) = sum(tanh(x W)); h(x) = sum((df/dx)^2) needs the second derivatives of tanh and matmul.
  checkGradient(t, {
    inputs: [{ name: "x", shape: [3, 4] }],
    build: ([x]) => {
      const w = full(0.75, [4, 2]);
      const f = reduce("sum", unary("tanh", matmulPrim(x!, w)), [0, 1]);
      const df = grad({ name: "f", inputs: [x] as never, outputs: [{ name: "f", node: f }] }, { inputs: ["x"] });
      const d = df.outputs.find((o) => o.name === gradName("x"))!.node;
      return reduce("sum", binary("mul", d, d), [0, 1]);
    },
  }, 51);
});

test("differentiating twice through a convolution, a softmax and a layer norm", (t) => {
  checkGradient(t, {
    inputs: [{ name: "x", shape: [1, 4, 4, 2] }, { name: "k", shape: [3, 3, 2, 2] }],
    build: ([x, k]) => {
      const y = ops.layerNorm(ops.softmax(ops.reshapeTo(ops.conv2d(x!, k!, 1, "same"), [-1, 8])), 1e-3);
      const f = reduce("sum", binary("mul", y, y), [0, 1]);
      const df = grad({ name: "f", inputs: [x, k] as never, outputs: [{ name: "f", node: f }] }, { inputs: ["x", "k"] });
      const d = df.outputs.filter((o) => o.name.startsWith("grad/")).map((o) => reduce("sum", binary("mul", o.node, o.node), o.node.shape.map((_, i) => i)));
      return binary("add", d[0]!, d[1]!);
    },
  }, 52);
});

test("differentiating through max pooling twice is rejected with a diagnostic", (t) => {
  const x = input("x", [1, 4, 4, 1]);
  const first = grad({ name: "f", inputs: [x] as never, outputs: [{ name: "y", node: reduce("sum", ops.pool("maxPool2d", x, 2), [0, 1, 2, 3]) }] }, { inputs: ["x"] });
  const dx = first.outputs.find((o) => o.name === gradName("x"))!.node;
  const second = { name: "g", inputs: [x] as never, outputs: [{ name: "n", node: reduce("sum", binary("mul", dx, dx), [0, 1, 2, 3]) }] };
  const error = t.throws(() => grad(second, { inputs: ["x"] }), { instanceOf: CompileError });
  t.is(error.diagnostic.code, "DLC3006");
  t.regex(error.diagnostic.message, /maxPool2dGrad/);
});
