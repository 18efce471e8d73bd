import { type Tensor, mean, sgd } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(x);
}

export const train = { optimizer: sgd({ lr: 0.1, momentun: 0.9 }) };
