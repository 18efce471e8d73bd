import { type Tensor, mean } from "dlc";
import { dense } from "./layers.js";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(dense(x));
}
