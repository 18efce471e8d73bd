// Fashion-MNIST CNN with batch norm and dropout (NHWC): two blocks of
// convolution, max pooling, batch norm and ReLU (pooling first: batch norm and
// ReLU then touch a quarter of the values), dropout, a dense layer with batch
// norm and dropout.
// Train: npx dlc train models/cnn-bn.ts --data data/fashion-mnist/train.csv.gz --test data/fashion-mnist/test.csv.gz --backend cpu
// (data/fashion-mnist/ comes from `npx dlc fetch fashion-mnist`; see README.md)
// Its 10 epochs (Adam 2e-3, cosine, batch 128) reach 0.9282 test accuracy (0.889 after the first, 0.919
// after the fifth, 0.926 after the seventh): short of the 0.93 aimed for. On the CPU backend (products on
// the WebAssembly GEMM) of a shared 2-core machine the run took 49 minutes while two other trainings and a
// test suite shared the cores (1.4 to 2.1 steps/s, 223 to 648 s an epoch); its least contended epochs
// took about 230 s, so about 38 minutes on a quiet machine, over the 20 aimed for. Its step is 3.3 GFLOP
// at batch 128; the products take a fraction of it, the rest is elementwise loops, pooling and
// reductions still interpreted in JavaScript. The software WebGPU adapter ran it slower than the CPU.
import { type Tensor, param, conv2d, maxPool2d, matmul, relu, reshape, batchNorm, dropout, softmaxCrossEntropy, argmax, adam } from "dlc";

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

export const train = { optimizer: adam({ lr: 2e-3, schedule: { kind: "cosine" } }), batch: 128, epochs: 10 };
