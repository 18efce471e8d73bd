import { type Tensor, softmaxCrossEntropy } from "dlc";

export function loss(logits: Tensor<["batch", 10]>, label: Tensor<["batch", 1], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits, label);
}
