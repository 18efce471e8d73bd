// The reference evaluator: a graph run by the CPU interpreter, unfused, in
// float64, for gradient checks and pass tests. It is the training
// interpreter itself (runtime/cpu) at another precision, not a second
// implementation. Executables are cached per graph.

import { CpuExecutable } from "../../runtime/cpu/executable.js";
import type { NDArray, Precision } from "../../runtime/cpu/ndarray.js";
import { lowerCpu } from "../codegen/cpu.js";
import type { Graph } from "./node.js";

export interface EvaluateOptions {
  /** "f64" (the default) for reference values, "f32" as training computes them. */
  readonly precision?: Precision;
  /** Run the fused CPU program instead of one kernel per node. */
  readonly fusion?: boolean;
}

const cache = new WeakMap<Graph, Map<string, CpuExecutable>>();

/** The graph's outputs for these inputs and parameters; the arrays are valid until the next evaluation of the same graph. */
export function evaluate(
  g: Graph,
  feeds: ReadonlyMap<string, NDArray>,
  params: ReadonlyMap<string, NDArray> = new Map(),
  options: EvaluateOptions = {},
): Map<string, NDArray> {
  const precision = options.precision ?? "f64";
  const fusion = options.fusion ?? false;
  const key = `${precision}:${fusion}`;
  let byKey = cache.get(g);
  if (!byKey) cache.set(g, (byKey = new Map()));
  let exe = byKey.get(key);
  if (!exe) byKey.set(key, (exe = new CpuExecutable(lowerCpu(g, { fusion }), precision)));
  return exe.run(feeds, params);
}
