// Fashion-MNIST CNN with batch norm and dropout (NHWC): three blocks of
// convolution, max pooling, batch norm and ReLU (pooling first: batch norm and
// ReLU then touch a quarter of the values), dropout, a dense layer with batch
// norm and dropout, and a loss against labels smoothed by 0.1.
// Train: npx dlc train models/cnn-bn.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --backend cpu
// (data/fashion-mnist/ comes from `npx dlc fetch fashion-mnist`; see README.md)
// Its 12 epochs (Adam 2e-3, cosine, batch 128) reach 0.9307 test accuracy (0.918 after the fourth, 0.927
// after the seventh, 0.930 after the eleventh). On the CPU backend (WebAssembly, --threads 1) of a 2-core
// machine whose other core ran another training, the run took 20.4 minutes: 35 s to load the data, then
// 93 to 100 s an epoch (132 s for the first, while a test suite also ran), test set included. Without
// label smoothing and the dense layer's stronger dropout (0.4) the same network peaked at 0.929 and ended
// at 0.926, overfitting (training loss 0.07); two blocks without them ended at 0.928. A step is 6.0 GFLOP
// at batch 128 (dlc inspect); on the quiet machine it took 199 ms on one thread, 93% of it in the
// convolutions (bench/cpu/profile.ts), and 117 ms on two (the default --threads): about 12 minutes a run.
import { type Tensor, param, conv2d, maxPool2d, matmul, relu, reshape, batchNorm, dropout, softmaxCrossEntropy, logSoftmax, mean, argmax, adam } from "dlc";

/** 3x3 convolution, 2x2 max pooling, batch norm (which makes a bias redundant), ReLU. */
function block(name: string, x: Tensor, inC: number, outC: number): Tensor {
  const k = param(`${name}.k`, [3, 3, inC, outC], "he");
  const pooled = maxPool2d(conv2d(x, k, { padding: "same" }), { size: 2, stride: 2 });
  return relu(batchNorm(pooled, { name: `${name}.bn` }));
}

export function logits(pixels: Tensor<["batch", 784]>): Tensor<["batch", 10]> {
  let x = reshape(pixels / 255, [-1, 28, 28, 1]);
  x = block("conv1", x, 1, 32); // 14x14x32
  x = block("conv2", x, 32, 64); // 7x7x64
  x = block("conv3", x, 64, 128); // 3x3x128
  const flat = dropout(reshape(x, [-1, 3 * 3 * 128]), 0.25);
  const h = dropout(relu(batchNorm(matmul(flat, param("fc.w", [3 * 3 * 128, 256], "he")), { name: "fc.bn" })), 0.5);
  return matmul(h, param("out.w", [256, 10], "glorot")) + param("out.b", [10], "zeros");
}

export function predict(pixels: Tensor<["batch", 784]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}

/** Cross-entropy against labels smoothed by 0.1: 0.9 on the label, 0.1 spread evenly over the 10 classes. */
export function loss(pixels: Tensor<["batch", 784]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  const z = logits(pixels);
  return 0.9 * softmaxCrossEntropy(z, label) - 0.1 * mean(logSoftmax(z, -1));
}

export const train = { optimizer: adam({ lr: 2e-3, schedule: { kind: "cosine" } }), batch: 128, epochs: 12 };
