import { type Tensor, param, matmul, softmaxCrossEntropy } from "dlc";

export function loss(pixels: Tensor<["batch", 784]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  const w = param("w", [128, 10], "glorot");
  return softmaxCrossEntropy(matmul(pixels, w), label);
}
