import { type Tensor, param, matmul } from "dlc";

export function loss(x: Tensor<["batch", 4]>, y: Tensor<["batch", 1]>) {
  const err = matmul(x, param("w", [4, 1])) - y;
  return err * err;
}
