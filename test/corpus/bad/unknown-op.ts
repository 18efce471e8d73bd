import { type Tensor, softmaxx, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(softmaxx(x));
}
