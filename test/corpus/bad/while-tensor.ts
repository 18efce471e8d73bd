import { type Tensor, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  let y = x;
  while (mean(y) < 1) y = y * 2;
  return mean(y);
}
