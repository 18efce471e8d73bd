// A shape error inside a helper points at the helper and says where it was called from.
import { type Tensor, param, matmul, mean } from "dlc";

function dense(name: string, x: Tensor, inputs: number, outputs: number): Tensor {
  return matmul(x, param(`${name}.w`, [inputs, outputs], "he"));
}

export function loss(x: Tensor<["batch", 10]>): Tensor<[]> {
  const h = dense("fc0", x, 10, 32);
  return mean(dense("fc1", h, 16, 1));
}
