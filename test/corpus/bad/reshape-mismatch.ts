import { type Tensor, reshape, mean } from "dlc";

export function loss(pixels: Tensor<["batch", 784]>): Tensor<[]> {
  const images = reshape(pixels, [-1, 27, 27, 1]);
  return mean(images);
}
