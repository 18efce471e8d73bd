import { type Tensor, param, conv1d, mean } from "dlc";

export function loss(x: Tensor<["batch", 20, 6]>): Tensor<[]> {
  return mean(conv1d(x, param("k", [5, 2, 4], "he"), { groups: 2, padding: "same" }));
}
