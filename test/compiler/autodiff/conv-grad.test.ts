// Dilated, grouped, depthwise, 1-D and transposed convolutions differentiate
// correctly: the symbolic gradient with respect to the input and the kernel,
// evaluated in float64, matches central finite differences (h = 1e-5) to a
// normwise relative error of 1e-6, on odd sizes. The two gradient primitives
// carry dilation and groups, and their own VJPs (second derivatives) are
// checked the same way; a transposed convolution is conv2dInputGrad, so its
// gradient with respect to x is a conv2d and with respect to the kernel a
// conv2dFilterGrad with the roles of x and the output swapped.

import test from "ava";
import { grad } from "../../../compiler/autodiff/grad.js";
import type { Node } from "../../../compiler/ir/node.js";
import { binary, reduce } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { checkGradient, input } from "../../helpers/gradcheck.js";

interface Case {
  readonly x: number[];
  readonly k: number[];
  readonly options: ops.ConvOptions;
}

const CONV2D: Case[] = [
  { x: [2, 7, 6, 2], k: [3, 3, 2, 3], options: { dilation: 2, padding: "same" } },
  { x: [1, 9, 7, 1], k: [2, 3, 1, 2], options: { dilation: [3, 2], stride: [2, 1], padding: "valid" } },
  { x: [1, 8, 9, 3], k: [3, 2, 3, 2], options: { dilation: [1, 3], stride: 2, padding: "same" } },
  { x: [2, 5, 6, 4], k: [3, 3, 2, 6], options: { groups: 2, padding: [1, 0, 2, 1] } },
  { x: [1, 7, 5, 6], k: [2, 2, 2, 3], options: { groups: 3, stride: [1, 2], dilation: 2, padding: "same" } },
  // Depthwise as groups = in channels, a channel multiplier of 2.
  { x: [2, 5, 5, 3], k: [3, 3, 1, 6], options: { groups: 3, padding: "same" } },
];

const label = (c: Case) => `x [${c.x}] k [${c.k}] ${JSON.stringify(c.options)}`;
const xk = (c: Case) => [{ name: "x", shape: c.x }, { name: "k", shape: c.k }];

for (const c of CONV2D) {
  test(`conv2d ${label(c)}`, (t) => checkGradient(t, { inputs: xk(c), build: ([x, k]) => ops.conv2d(x!, k!, c.options) }, 51));
  test(`conv2dInputGrad and conv2dFilterGrad differentiate, ${label(c)}`, (t) => {
    const probe = ops.conv2d(input("x", c.x), input("k", c.k), c.options);
    if (probe.op !== "conv2d") return t.fail();
    const geometry = probe.attrs;
    const dy = probe.shape.map(Number);
    checkGradient(t, { inputs: [{ name: "dy", shape: dy }, { name: "k", shape: c.k }], build: ([g, k]) => make("conv2dInputGrad", [g!, k!], { ...geometry, inputSize: [c.x[1]!, c.x[2]!] }) }, 52);
    checkGradient(t, { inputs: [{ name: "x", shape: c.x }, { name: "dy", shape: dy }], build: ([x, g]) => make("conv2dFilterGrad", [x!, g!], { ...geometry, kernelSize: [c.k[0]!, c.k[1]!] }) }, 53);
  });
}

const DEPTHWISE: Case[] = [
  { x: [2, 6, 5, 3], k: [3, 3, 3, 1], options: { padding: "same" } },
  { x: [1, 7, 7, 2], k: [3, 2, 2, 3], options: { dilation: 2, padding: "same" } },
  { x: [1, 9, 8, 3], k: [2, 3, 3, 2], options: { stride: 2, dilation: [2, 1], padding: "valid" } },
];
for (const c of DEPTHWISE) test(`depthwiseConv2d ${label(c)}`, (t) => checkGradient(t, { inputs: xk(c), build: ([x, k]) => ops.depthwiseConv2d(x!, k!, c.options) }, 54));

const CONV1D: { x: number[]; k: number[]; options: Parameters<typeof ops.conv1d>[2] }[] = [
  { x: [2, 11, 3], k: [3, 3, 2], options: { padding: "same" } },
  { x: [1, 13, 2], k: [4, 2, 3], options: { stride: 2, dilation: 3, padding: "valid" } },
  { x: [2, 9, 4], k: [3, 2, 6], options: { groups: 2, dilation: 2, padding: [2, 1] } },
  { x: [1, 8, 5], k: [2, 1, 5], options: { groups: 5, stride: 3, padding: "same" } },
];
for (const c of CONV1D) {
  test(`conv1d x [${c.x}] k [${c.k}] ${JSON.stringify(c.options)}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape: c.x }, { name: "k", shape: c.k }], build: ([x, k]) => ops.conv1d(x!, k!, c.options) }, 55));
}

const TRANSPOSE: { x: number[]; k: number[]; options: ops.TransposeOptions }[] = [
  { x: [2, 4, 3, 3], k: [3, 3, 2, 3], options: { stride: 2, padding: "same" } },
  { x: [1, 3, 4, 2], k: [3, 2, 3, 2], options: { stride: [2, 3], padding: "valid" } },
  { x: [1, 5, 4, 2], k: [3, 3, 2, 2], options: { stride: 1, dilation: 2, padding: "same" } },
  { x: [1, 3, 3, 4], k: [2, 3, 3, 4], options: { stride: 2, dilation: [2, 1], groups: 2, padding: [1, 0, 0, 1] } },
  // An output one larger than the rule's (Keras' output_padding).
  { x: [2, 3, 4, 1], k: [3, 3, 2, 1], options: { stride: 2, padding: "valid", outputShape: [8, 10] } },
];
for (const c of TRANSPOSE) {
  test(`conv2dTranspose x [${c.x}] k [${c.k}] ${JSON.stringify(c.options)}`, (t) => checkGradient(t, { inputs: [{ name: "x", shape: c.x }, { name: "k", shape: c.k }], build: ([x, k]) => ops.conv2dTranspose(x!, k!, c.options) }, 56));
}

test("differentiating twice through a dilated, grouped convolution", (t) => {
  checkGradient(t, {
    inputs: [{ name: "x", shape: [1, 6, 5, 4] }, { name: "k", shape: [3, 2, 2, 4] }],
    build: ([x, k]) => {
      const y = ops.conv2d(x!, k!, { dilation: 2, groups: 2, padding: "same" });
      const f = reduce("sum", binary("mul", y, y), [0, 1, 2, 3]);
      const df = grad({ name: "f", inputs: [x, k] as never, outputs: [{ name: "f", node: f }] }, { inputs: ["x", "k"] });
      const squares = df.outputs.filter((o) => o.name.startsWith("grad/")).map((o: { node: Node }) => reduce("sum", binary("mul", o.node, o.node), o.node.shape.map((_, i) => i)));
      return binary("add", squares[0]!, squares[1]!);
    },
  }, 57, 1e-5);
});
