// Evaluates a graph in float64, caching its executable between calls.

import { lowerCpu } from "../../compiler/codegen/cpu.js";
import type { Graph } from "../../compiler/ir/node.js";
import { CpuExecutable } from "../../runtime/cpu/executable.js";
import type { NDArray, Precision } from "../../runtime/cpu/ndarray.js";

const executables = new WeakMap<Graph, Map<string, CpuExecutable>>();

export function lowerAndRun(
  g: Graph,
  feeds: ReadonlyMap<string, NDArray>,
  params: ReadonlyMap<string, NDArray> = new Map(),
  options: { precision?: Precision; fusion?: boolean } = {},
): Map<string, NDArray> {
  const precision = options.precision ?? "f64";
  const fusion = options.fusion ?? false;
  const key = `${precision}:${fusion}`;
  let byKey = executables.get(g);
  if (!byKey) executables.set(g, (byKey = new Map()));
  let exe = byKey.get(key);
  if (!exe) byKey.set(key, (exe = new CpuExecutable(lowerCpu(g, { fusion }), precision)));
  return exe.run(feeds, params);
}
