import { type Tensor, broadcastTo } from "dlc";

export function tile(v: Tensor<[3]>): Tensor<["batch", 3]> {
  return broadcastTo(v, ["batch", 3]);
}
