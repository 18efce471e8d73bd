// A small image classifier written with a dilated conv2d, a depthwise
// convolution with a channel multiplier, a grouped pointwise convolution and
// a transposed convolution: it compiles to the grouped and dilated
// primitives (and their gradients), and trained on one fixed batch its loss
// falls on the CPU interpreter and on WebGPU alike, step for step.

import test from "ava";
import { graphNodes } from "../../../compiler/ir/graph.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { entryOf } from "../../../runtime/program/model.js";
import { Random } from "../../../runtime/random.js";
import { sourceCompilation } from "../../helpers/compile.js";
import { bothBackends, sameWeights } from "../../helpers/backends.js";
import { closeGpu } from "../../helpers/gpu.js";
import { sample } from "../../helpers/gradcheck.js";

test.after.always(closeGpu);

const MODEL = `
import { type Tensor, param, conv2d, depthwiseConv2d, conv2dTranspose, maxPool2d, matmul, relu, reshape, softmaxCrossEntropy, adam } from "dlc";

export function logits(x: Tensor<["batch", 9, 9, 2]>): Tensor<["batch", 3]> {
  let h = relu(conv2d(x, param("c1.k", [3, 3, 2, 6], "he"), { dilation: 2, padding: "same" }) + param("c1.b", [6], "zeros"));
  h = relu(depthwiseConv2d(h, param("dw.k", [3, 3, 6, 2], "he"), { dilation: [2, 1], padding: "same" })); // [batch, 9, 9, 12]
  h = relu(conv2d(h, param("pw.k", [1, 1, 4, 6], "he"), { groups: 3 })); // [batch, 9, 9, 6]
  h = maxPool2d(h, { size: 3, stride: 3 }); // [batch, 3, 3, 6]
  h = relu(conv2dTranspose(h, param("up.k", [2, 2, 4, 6], "he"), { stride: 2, padding: "same" })); // [batch, 6, 6, 4]
  return matmul(reshape(h, [-1, 144]), param("out.w", [144, 3], "glorot")) + param("out.b", [3], "zeros");
}

export function loss(x: Tensor<["batch", 9, 9, 2]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(x), label);
}

export const train = { optimizer: adam({ lr: 0.01 }), batch: 8, epochs: 1 };
`;

test.serial("a depthwise, dilated and grouped model compiles to grouped, dilated convolutions and their gradients", (t) => {
  const step = sourceCompilation(MODEL).step().graph;
  const convs = graphNodes(step).filter((n) => n.op === "conv2d" || n.op === "conv2dInputGrad" || n.op === "conv2dFilterGrad");
  const kinds = new Set(convs.map((n) => (n.op === "conv2d" || n.op === "conv2dInputGrad" || n.op === "conv2dFilterGrad" ? `${n.op} dilation=${n.attrs.dilation.join("x")} groups=${n.attrs.groups}` : "")));
  for (const kind of ["conv2d dilation=2x2 groups=1", "conv2d dilation=2x1 groups=6", "conv2d dilation=1x1 groups=3", "conv2dFilterGrad dilation=2x1 groups=6", "conv2dInputGrad dilation=2x1 groups=6", "conv2dFilterGrad dilation=2x2 groups=1"]) {
    t.true(kinds.has(kind), `${kind} in ${[...kinds].join("; ")}`);
  }
});

test.serial("a depthwise, dilated and grouped model's loss falls over 12 steps, alike on the CPU and on WebGPU", async (t) => {
  const model = sourceCompilation(MODEL).model({ training: true, webgpu: true });
  const { onGpu, onCpu } = await bothBackends(t, model);
  const rng = new Random(17, 17);
  const batch = 8;
  const inputs = new Map<string, NDArray>();
  for (const i of entryOf(model, "loss")!.inputs) {
    const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
    inputs.set(i.name, i.dtype === "i32" ? { shape, data: Int32Array.from({ length: batch }, () => rng.int(3)) } : { shape, data: Float32Array.from(sample(rng, shape)) });
  }
  const losses: number[] = [];
  for (let step = 1; step <= 12; step++) {
    const a = (await onGpu.step(inputs, 0.01, step, true))!;
    const b = (await onCpu.step(inputs, 0.01, step, true))!;
    t.true(Number.isFinite(b));
    t.true(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `step ${step}: loss ${a} on WebGPU, ${b} on the CPU`);
    losses.push(b);
  }
  t.true(losses.at(-1)! < 0.5 * losses[0]!, `losses ${losses.map((l) => l.toFixed(4)).join(", ")}`);
  await sameWeights(t, onGpu, onCpu);
});
