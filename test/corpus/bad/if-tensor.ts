import { type Tensor, mean, relu } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  if (mean(x) > 0) {
    return mean(relu(x));
  }
  return mean(x);
}
