// dlc-corpus: train
// Every convolution: dilated, grouped, depthwise, 1-D and transposed, with their gradients.
import { type Tensor, param, conv2d, depthwiseConv2d, conv1d, conv2dTranspose, reshape, mean, sgd } from "dlc";

export function features(x: Tensor<["batch", 9, 9, 4]>): Tensor<["batch", 9, 9, 2]> {
  let h = conv2d(x, param("dilated.k", [3, 3, 4, 8], "he"), { dilation: 2, padding: "same" });
  h = conv2d(h, param("grouped.k", [3, 3, 2, 8], "he"), { groups: 4, stride: [1, 1], padding: "same" });
  h = depthwiseConv2d(h, param("depthwise.k", [3, 3, 8, 2], "he"), { dilation: [1, 2], padding: "same" }); // [batch, 9, 9, 16]
  const rows = conv1d(reshape(h, [-1, 9, 144]), param("rows.k", [3, 72, 16], "he"), { groups: 2, padding: "same" }); // [batch, 9, 16]
  return conv2dTranspose(reshape(rows, [-1, 3, 3, 16]), param("up.k", [3, 3, 2, 16], "he"), { stride: 3, padding: "same", outputShape: [9, 9] });
}

export function loss(x: Tensor<["batch", 9, 9, 4]>): Tensor<[]> {
  return mean(features(x) * features(x));
}

export const train = { optimizer: sgd({ lr: 0.01 }), batch: 2, epochs: 1 };
