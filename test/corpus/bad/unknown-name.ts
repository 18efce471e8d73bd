import { type Tensor, relu, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(relux(x));
}
