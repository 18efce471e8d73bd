import { type Tensor, param, matmul, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  const h = matmul(x, param("w", [4, 8]));
  return mean(h + param("b", [4]));
}
