import { type Tensor, mean, adam } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(x);
}

export const train = { optimizer: adam({ lr: 1e-3 }), batch: 32, epoch: 5 };
