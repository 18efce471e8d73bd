// A thrown value that contains itself: the message is printed without recursing forever.
import { type Tensor, mean } from "dlc";

const layers: unknown[] = ["dense"];
layers.push(layers);

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  if (layers.length > 1) throw { reason: "bad layer list", layers };
  return mean(x);
}
