// dlc-corpus: train
import { type Tensor, param, matmul, argmax } from "dlc";

export function predict(x: Tensor<["batch", 4]>): Tensor<["batch"], "i32"> {
  return argmax(matmul(x, param("w", [4, 3])));
}
