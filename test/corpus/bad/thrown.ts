import { type Tensor, param, matmul, mean } from "dlc";

function dense(x: Tensor, inputs: number, outputs: number): Tensor {
  if (outputs <= 0) throw new Error(`a layer needs a positive width, got ${outputs}`);
  return matmul(x, param(`w${outputs}`, [inputs, outputs]));
}

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  return mean(dense(x, 4, 0));
}
