// Dilated and grouped convolution kernels on WebGPU against the CPU
// interpreter (normwise relative error <= 1e-4), fused and unfused: the
// forward product with a scaled input (a prologue) and bias + relu (an
// epilogue), the input gradient with a relu mask, the filter gradient with an
// SGD step. Groups add a grid axis, so the shapes cover tiles that do and do
// not fill a group, a filter gradient whose tile rows share one tap and one
// whose rows each have their own, depthwise convolutions with and without a
// channel multiplier, and a symbolic batch (the group's tile count computed
// from it at run time). Each case runs in both kernel families.

import test from "ava";
import type { Node } from "../../../compiler/ir/node.js";
import { lowerGpu } from "../../../compiler/codegen/wgsl/program.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import type { Dim } from "../../../runtime/program/dim.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { closeGpu, matchesCpu } from "../../helpers/gpu.js";
import { KERNEL_FAMILIES } from "../../../runtime/program/gpu.js";
import { batchFeeds } from "../../helpers/feeds.js";

test.after.always(closeGpu);

const input = (name: string, shape: readonly Dim[]) => make("input", [], { name, shape, dtype: "f32" });
const graph = (inputs: Node[], outputs: Record<string, Node>) => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });

const feed = (seed: number, xs: readonly Node[], batch: number): Map<string, NDArray> => batchFeeds(seed, 17, xs, batch);

interface Case {
  readonly what: string;
  readonly x: readonly Dim[];
  /** [kh, kw, in / groups, out] */
  readonly k: readonly number[];
  readonly options: ops.ConvOptions;
  readonly batch?: number;
  /** Whether the filter gradient's tile rows must share one tap (the class this shape is named for). */
  readonly oneTap?: boolean;
}

const CASES: Case[] = [
  { what: "dilated 2x2, same padding", x: [2, 9, 8, 3], k: [3, 3, 3, 5], options: { dilation: 2, padding: "same" } },
  { what: "dilated 3x1 with stride 2 and explicit padding", x: [1, 13, 9, 2], k: [3, 2, 2, 7], options: { dilation: [3, 1], stride: 2, padding: [2, 1, 0, 1] } },
  { what: "2 groups of 16 channels (the filter gradient's tile rows share a tap)", x: [2, 6, 5, 32], k: [3, 3, 16, 12], options: { groups: 2, padding: "same" }, oneTap: true },
  { what: "2 groups of 8 channels (each of the filter gradient's tile rows has its tap)", x: [2, 7, 6, 16], k: [3, 3, 8, 16], options: { groups: 2, padding: "same" }, oneTap: false },
  { what: "3 groups of 3 channels, dilated, strided", x: [1, 11, 10, 9], k: [3, 2, 3, 6], options: { groups: 3, dilation: [2, 3], stride: [1, 2], padding: "same" } },
  { what: "depthwise, 12 channels, over a symbolic batch", x: ["batch", 8, 7, 12], k: [3, 3, 1, 12], options: { groups: 12, dilation: 2, padding: "same" }, batch: 3 },
  { what: "depthwise with a channel multiplier of 3", x: [2, 6, 9, 5], k: [2, 3, 1, 15], options: { groups: 5, stride: 2, padding: "valid" } },
  { what: "groups past one workgroup's tile of pixels", x: [3, 15, 14, 4], k: [2, 2, 2, 10], options: { groups: 2, dilation: 3, padding: [1, 1, 2, 2] } },
];

for (const family of KERNEL_FAMILIES) for (const c of CASES) {
  for (const fusion of [true, false]) {
    test.serial(`${family}: ${c.what}: x [${c.x}] k [${c.k}] ${JSON.stringify(c.options)}, ${fusion ? "fused" : "unfused"}`, async (t) => {
      const x = input("x", c.x);
      const k = input("k", c.k);
      const bias = input("bias", [c.k[3]!]);
      const conv = ops.conv2d(ops.binaryOp("mul", x, 0.5), k, c.options);
      if (conv.op !== "conv2d") return t.fail();
      const y = ops.relu(ops.binaryOp("add", conv, bias));
      const dy = input("dy", conv.shape);
      const dx = make("conv2dInputGrad", [dy, k], { ...conv.attrs, inputSize: [c.x[1] as number, c.x[2] as number] });
      const dk = make("conv2dFilterGrad", [x, dy], { ...conv.attrs, kernelSize: [c.k[0]!, c.k[1]!] });
      const outs = { y, dx: ops.where(ops.binaryOp("greater", x, 0), dx, 0), kNext: ops.binaryOp("sub", k, ops.binaryOp("mul", dk, 0.01)) };
      const g = graph([x, k, bias, dy], outs);
      if (fusion && family === "software") {
        // Fused, each product is one kernel with its prologue and epilogue, and grouped ones take the group from the grid.
        const kernels = lowerGpu(g, { fusion: true }).kernels.filter((kn) => kn.ops.some((o) => o.startsWith("conv2d")));
        t.is(kernels.length, 3);
        if ((c.options.groups ?? 1) > 1) t.true(kernels.every((kn) => kn.grid.length === 3 && kn.wgsl.includes("let grp = wg / tiles;")));
        const filterGrad = kernels.find((kn) => kn.ops.includes("conv2dFilterGrad"));
        if (c.oneTap !== undefined) t.is(filterGrad?.wgsl.includes("xAt0 + 1u"), c.oneTap, "the filter gradient's shape class");
      }
      await matchesCpu(t, g, feed(c.k[3]!, [x, k, bias, dy], c.batch ?? 1), new Map(), { fusion, family });
    });
  }
}

test.serial("ungrouped, undilated convolutions are written without a group axis or dilation factors", (t) => {
  const x = input("x", [2, 6, 6, 3]);
  const k = input("k", [3, 3, 3, 4]);
  const conv = ops.conv2d(x, k, 1, "same");
  if (conv.op !== "conv2d") return t.fail();
  const dy = input("dy", conv.shape);
  const outs = { y: conv, dx: make("conv2dInputGrad", [dy, k], { ...conv.attrs, inputSize: [6, 6] }), dk: make("conv2dFilterGrad", [x, dy], { ...conv.attrs, kernelSize: [3, 3] }) };
  for (const kn of lowerGpu(graph([x, k, dy], outs), { fusion: false }).kernels) {
    t.is(kn.grid.length, 2, kn.name);
    t.false(/grp|ky \*|kx \*/.test(kn.wgsl), kn.name);
  }
});
