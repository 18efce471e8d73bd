import { type Tensor, param, conv2d, mean } from "dlc";

export function loss(x: Tensor<["batch", 8, 8, 1]>): Tensor<[]> {
  // TensorFlow's name for the option (tsc refuses it too)
  return mean(conv2d(x, param("k", [3, 3, 1, 4], "he"), { dilations: 2 }));
}
