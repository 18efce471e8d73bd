import { type Tensor, param, conv2dTranspose, mean } from "dlc";

export function loss(x: Tensor<["batch", 5, 5, 8]>): Tensor<[]> {
  return mean(conv2dTranspose(x, param("k", [3, 3, 4, 8], "he"), { stride: 2, padding: "same", outputShape: [12, 10] }));
}
