import { type Tensor, param, conv2dTranspose, mean } from "dlc";

export function loss(x: Tensor<["batch", 5, 5, 8]>): Tensor<[]> {
  // TensorFlow's transposed kernel is [height, width, out, in]: this one is [.., in, out].
  return mean(conv2dTranspose(x, param("k", [3, 3, 8, 4], "he"), { stride: 2, padding: "same" }));
}
