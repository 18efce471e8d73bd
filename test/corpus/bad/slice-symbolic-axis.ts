import { type Tensor, slice } from "dlc";

export function firstTwo(x: Tensor<["batch", 10]>) {
  return slice(x, [0, 0], [2, -1]);
}
