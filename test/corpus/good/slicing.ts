// dlc-corpus: train
// Slicing and assembly over a symbolic batch: slice, pad, concat, stack, split.
import { type Tensor, param, matmul, relu, reshape, slice, pad, concat, stack, split, softmaxCrossEntropy } from "dlc";

export function features(x: Tensor<["batch", 8]>): Tensor<["batch", 14]> {
  const [left, right] = split(x, [3, 5], -1);
  const shifted = pad(slice(right, [0, 1], [-1, -1]), [[0, 0], [0, 1]], 0.5); // [batch, 5]
  const pair = stack([left, slice(shifted, [0, -3], [-1, 3])], 1); // [batch, 2, 3]
  const mixed = reshape(matmul(pair, param("p", [3, 1], "glorot")), [-1, 2]);
  return concat([x, relu(slice(shifted, [0, 0], [-1, 4])), mixed], -1);
}

export function loss(x: Tensor<["batch", 8]>, labels: Tensor<["batch"], "i32">): Tensor<[]> {
  const h = relu(matmul(features(x), param("w", [14, 4], "glorot")));
  return softmaxCrossEntropy(h, labels);
}
