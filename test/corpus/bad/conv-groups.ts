import { type Tensor, param, conv2d, mean } from "dlc";

export function loss(x: Tensor<["batch", 8, 8, 6]>): Tensor<[]> {
  return mean(conv2d(x, param("k", [3, 3, 2, 8], "he"), { groups: 4, padding: "same" }));
}
