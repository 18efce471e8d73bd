// Local imports (with a .js specifier, resolved to the .ts file) and a namespace import of dlc.
import * as dl from "dlc";
import { dense, classes as numClasses } from "./lib/layers.js";

export function logits(x: dl.Tensor<["batch", 4]>): dl.Tensor<["batch", 3]> {
  return dense("out", dl.relu(dense("hidden", x, 4, 8)), 8, numClasses);
}

export function loss(x: dl.Tensor<["batch", 4]>, species: dl.Tensor<["batch"], "i32">): dl.Tensor<[]> {
  return dl.softmaxCrossEntropy(logits(x), species);
}
