import { type Tensor, mean } from "dlc";

function deep(x: Tensor, n: number): Tensor {
  return n === 0 ? x : deep(x + 1, n + 1);
}

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(deep(x, 1));
}
