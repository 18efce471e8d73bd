// Handwritten digits (8x8 images, pixel values 0..16): a small MLP.
// Train: npx dlc train models/digits.ts --data data/digits.csv --split 0.2
import { type Tensor, param, matmul, relu, softmaxCrossEntropy, argmax, adam } from "dlc";

function dense(name: string, x: Tensor, inputs: number, outputs: number): Tensor {
  return matmul(x, param(`${name}.w`, [inputs, outputs], "he")) + param(`${name}.b`, [outputs], "zeros");
}

export function logits(pixels: Tensor<["batch", 64]>): Tensor<["batch", 10]> {
  const h = relu(dense("hidden", pixels / 16, 64, 128));
  return dense("out", h, 128, 10);
}

export function predict(pixels: Tensor<["batch", 64]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}

export function loss(pixels: Tensor<["batch", 64]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(pixels), label);
}

export const train = { optimizer: adam({ lr: 2e-3 }), batch: 32, epochs: 30 };
