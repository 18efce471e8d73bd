// Fashion-MNIST CNN with batch norm and dropout (NHWC): two blocks of
// conv-BN-ReLU and max pooling, dropout, a dense layer with dropout.
// Train: npx dlc train models/cnn-bn.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz
import { type Tensor, param, conv2d, maxPool2d, matmul, relu, reshape, batchNorm, dropout, softmaxCrossEntropy, argmax, adam } from "dlc";

/** 3x3 convolution, batch norm (which makes a bias redundant), ReLU. */
function block(name: string, x: Tensor, inC: number, outC: number): Tensor {
  const k = param(`${name}.k`, [3, 3, inC, outC], "he");
  return relu(batchNorm(conv2d(x, k, { padding: "same" }), { name: `${name}.bn` }));
}

export function logits(pixels: Tensor<["batch", 784]>): Tensor<["batch", 10]> {
  let x = reshape(pixels / 255, [-1, 28, 28, 1]);
  x = maxPool2d(block("conv1", x, 1, 32), { size: 2, stride: 2 }); // 14x14x32
  x = maxPool2d(block("conv2", x, 32, 64), { size: 2, stride: 2 }); // 7x7x64
  const flat = dropout(reshape(x, [-1, 7 * 7 * 64]), 0.25);
  const h = dropout(relu(batchNorm(matmul(flat, param("fc.w", [7 * 7 * 64, 128], "he")), { name: "fc.bn" })), 0.4);
  return matmul(h, param("out.w", [128, 10], "glorot")) + param("out.b", [10], "zeros");
}

export function predict(pixels: Tensor<["batch", 784]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}

export function loss(pixels: Tensor<["batch", 784]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(pixels), label);
}

export const train = { optimizer: adam({ lr: 2e-3, schedule: { kind: "cosine" } }), batch: 128, epochs: 8 };
