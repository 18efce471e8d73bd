// A compile-time string longer than the budget allows: refused before it is made.
import { type Tensor, mean } from "dlc";

const banner = "=".repeat(2 ** 30);

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(x);
}
