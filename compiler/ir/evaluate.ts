// The reference evaluator: a graph evaluated in float64 by the CPU
// interpreter, for gradient checks and pass tests. (It is the training
// interpreter itself at another precision, not a second implementation.)

import { run } from "../../runtime/cpu/interpreter.js";
import type { NDArray, Precision } from "../../runtime/cpu/ndarray.js";
import { toProgram } from "./lower.js";
import type { Graph } from "./node.js";

export function evaluate(
  g: Graph,
  feeds: ReadonlyMap<string, NDArray> | Record<string, NDArray>,
  params: ReadonlyMap<string, NDArray> | Record<string, NDArray> = new Map(),
  precision: Precision = "f64",
): Map<string, NDArray> {
  const asMap = (m: ReadonlyMap<string, NDArray> | Record<string, NDArray>) => (m instanceof Map ? m : new Map(Object.entries(m)));
  return run(toProgram(g), asMap(feeds), asMap(params), { precision });
}
