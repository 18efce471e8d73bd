// Symbolic dimensions through reshapes, broadcasting, transposes and reductions.
import { type Tensor, reshape, transpose, sum, mean, max, broadcastTo, matmul, argmax } from "dlc";

// The result is [batch*seq, 2, 3]: a product of symbols is a dimension too.
export function regroup(x: Tensor<["batch", "seq", 6]>) {
  const flat = reshape(x, [-1]); // [6*batch*seq]
  const rows = reshape(flat, [-1, 6]); // [batch*seq, 6]
  return reshape(rows, [-1, 2, 3]);
}

export function pooled(x: Tensor<["batch", "seq", 6]>): Tensor<["batch", 6]> {
  const centered = x - mean(x, 1, true);
  const peak = max(centered, [1]);
  return peak + sum(x, -2) / 2;
}

export function scores(q: Tensor<["batch", 5, 8]>, k: Tensor<["batch", 7, 8]>): Tensor<["batch", 5, 7]> {
  return matmul(q, transpose(k, [0, 2, 1])) / Math.sqrt(8);
}

export function tiled(v: Tensor<[3]>, like: Tensor<["batch", 4, 3]>): Tensor<["batch", 4, 3]> {
  return broadcastTo(v, ["batch", 4, 3]) * like;
}

export function best(x: Tensor<["batch", 10]>): Tensor<["batch"], "i32"> {
  return argmax(x);
}
