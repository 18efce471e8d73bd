import { type Tensor, param, conv2d, mean } from "dlc";

export function loss(x: Tensor<["batch", 8, 8, 6]>): Tensor<[]> {
  return mean(conv2d(x, param("k", [3, 3, 3, 4], "he"), { groups: 3 }));
}
