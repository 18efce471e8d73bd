import { type Tensor, matmul, param } from "dlc";

class Dense {
  constructor(readonly width: number) {}
}

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return matmul(x, param("w", [4, 1]));
}
