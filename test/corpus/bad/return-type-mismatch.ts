import { type Tensor, param, matmul } from "dlc";

export function predict(x: Tensor<["batch", 4]>): Tensor<["batch"], "i32"> {
  return matmul(x, param("w", [4, 3]));
}
