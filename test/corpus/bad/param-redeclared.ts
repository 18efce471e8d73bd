import { type Tensor, param, matmul, mean } from "dlc";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  const h = matmul(x, param("w", [4, 4], "he"));
  return mean(matmul(h, param("w", [4, 1], "he")));
}
