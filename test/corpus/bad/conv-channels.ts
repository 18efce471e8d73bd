import { type Tensor, param, conv2d, mean, reshape } from "dlc";

export function loss(pixels: Tensor<["batch", 784]>): Tensor<[]> {
  const x = reshape(pixels, [-1, 28, 28, 1]);
  return mean(conv2d(x, param("k", [3, 3, 3, 8], "he"), { padding: "same" }));
}
