import { type Tensor, concat } from "dlc";

export function join(a: Tensor<["batch", 3, 4]>, b: Tensor<["batch", 2, 4]>) {
  return concat([a, b], -1);
}
