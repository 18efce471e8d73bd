import { type Tensor, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  try {
    return mean(x);
  } catch {
    return mean(x * 0);
  }
}
