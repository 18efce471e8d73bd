// Fashion-MNIST CNN with batch norm and dropout (NHWC): three blocks of
// convolution, max pooling, batch norm and ReLU (pooling first: batch norm and
// ReLU then touch a quarter of the values), dropout between them, a dense
// layer with batch norm and dropout, and a label-smoothed loss.
// Train: npx dlc train models/cnn-bn.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --backend cpu
// (data/fashion-mnist/ comes from `npx dlc fetch fashion-mnist`; see README.md)
// (Its measured accuracy and time follow once its run ends.)
import { type Tensor, param, conv2d, maxPool2d, matmul, relu, reshape, batchNorm, dropout, softmaxCrossEntropy, logSoftmax, mean, argmax, adamw } from "dlc";

/** 3x3 convolution, 2x2 max pooling, batch norm (which makes a bias redundant), ReLU. */
function block(name: string, x: Tensor, inC: number, outC: number): Tensor {
  const k = param(`${name}.k`, [3, 3, inC, outC], "he");
  const pooled = maxPool2d(conv2d(x, k, { padding: "same" }), { size: 2, stride: 2 });
  return relu(batchNorm(pooled, { name: `${name}.bn` }));
}

export function logits(pixels: Tensor<["batch", 784]>): Tensor<["batch", 10]> {
  let x = reshape(pixels / 255, [-1, 28, 28, 1]);
  x = block("conv1", x, 1, 32); // 14x14x32
  x = dropout(block("conv2", x, 32, 64), 0.25); // 7x7x64
  x = block("conv3", x, 64, 128); // 3x3x128
  const flat = dropout(reshape(x, [-1, 3 * 3 * 128]), 0.3);
  const h = dropout(relu(batchNorm(matmul(flat, param("fc.w", [3 * 3 * 128, 256], "he")), { name: "fc.bn" })), 0.5);
  return matmul(h, param("out.w", [256, 10], "glorot")) + param("out.b", [10], "zeros");
}

export function predict(pixels: Tensor<["batch", 784]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}

/** Cross-entropy against labels smoothed by 0.1: 0.9 on the label, 0.1 spread over the 10 classes. */
export function loss(pixels: Tensor<["batch", 784]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  const z = logits(pixels);
  return 0.9 * softmaxCrossEntropy(z, label) - 0.1 * mean(logSoftmax(z, -1));
}

export const train = { optimizer: adamw({ lr: 2e-3, weightDecay: 0.05, schedule: { kind: "cosine" } }), batch: 128, epochs: 12 };
