import { type Tensor, mean } from "dlc";

let layers = 1;
while (layers > 0) layers++;

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(x) * layers;
}
