import { type Tensor, param, depthwiseConv2d, mean } from "dlc";

export function loss(x: Tensor<["batch", 8, 8, 3]>): Tensor<[]> {
  return mean(depthwiseConv2d(x, param("k", [3, 3, 4, 2], "he"), { padding: "same" }));
}
