// An entry point with several named outputs, and one without a batch dimension.
import { type Tensor, param, matmul, argmax, softmax, sum } from "dlc";

export function classify(x: Tensor<["batch", 2]>) {
  const logits = matmul(x, param("w", [2, 3], "zeros"));
  return { probabilities: softmax(logits), label: argmax(logits) };
}

export function total(x: Tensor<[4]>): Tensor<[]> {
  return sum(x * x);
}
