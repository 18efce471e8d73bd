import { type Tensor, slice } from "dlc";

export function crop(x: Tensor<["batch", 10]>) {
  return slice(x, [0, 4], [-1, 8]);
}
