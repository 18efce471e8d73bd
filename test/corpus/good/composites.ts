// The composite ops, each expanded into primitives.
import {
  type Tensor, param, matmul, softmax, logSoftmax, layerNorm, gelu, sigmoid, mse, avgPool2d, maxPool2d, conv2d,
  where, greater, cast, reshape, square, stopGradient, minimum, maximum, exp, abs, sqrt, log, adamw,
} from "dlc";

export function block(x: Tensor<["batch", 8, 8, 3]>): Tensor<["batch", 16]> {
  const k = param("conv.k", [3, 3, 3, 4], "he");
  let h = conv2d(x, k, { stride: 2, padding: [1, 0, 1, 0] }); // [batch, 4, 4, 4]
  h = gelu(h);
  h = avgPool2d(h, { size: 3, stride: 1, padding: "same" });
  h = maxPool2d(h, { size: [2, 2], stride: 2 }); // [batch, 2, 2, 4]
  const flat = layerNorm(reshape(clip(h), [-1, 16]));
  return softmax(flat) + logSoftmax(flat, -1) * 0;
}

function clip(h: Tensor): Tensor {
  return maximum(minimum(h, 6), -6);
}

export function gates(x: Tensor<["batch", 4]>): Tensor<["batch", 4]> {
  const positive = greater(x, 0);
  const g = sigmoid(x) * cast(positive, "f32");
  return where(positive, g, -square(x)) + stopGradient(abs(x)) + sqrt(exp(x)) - log(1 + exp(x));
}

export function loss(x: Tensor<["batch", 4]>, y: Tensor<["batch", 4]>): Tensor<[]> {
  return mse(gates(x) + matmul(x, param("w", [4, 4], { normal: 0.1 })), y);
}

export const train = { optimizer: adamw({ lr: 3e-4, weightDecay: 0.05, schedule: { kind: "warmup", steps: 100, then: { kind: "cosine" } }, clipNorm: 1 }), batch: 4, epochs: 1, seed: 7 };
