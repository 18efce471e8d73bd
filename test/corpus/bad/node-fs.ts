import { type Tensor, mean } from "dlc";
import { writeFileSync } from "node:fs";

export function loss(x: Tensor<["batch", 4]>): Tensor<[]> {
  writeFileSync("/tmp/dlc-pwned", "model code ran");
  return mean(x);
}
