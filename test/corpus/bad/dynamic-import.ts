import { type Tensor, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  void import("node:child_process");
  return mean(x);
}
