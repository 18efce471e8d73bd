import { type Tensor, mean, argmax } from "dlc";

const scales = [1, 2, 3];

export function loss(x: Tensor<["batch", 3]>): Tensor<[]> {
  return mean(x) * scales[argmax(mean(x, 0))]!;
}
