import { type Tensor, mean, sum } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  let y = x;
  for (let i = 0; i < sum(x); i++) y = y + 1;
  return mean(y);
}
