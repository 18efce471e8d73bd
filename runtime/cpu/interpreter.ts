// The CPU interpreter's entry points. A program runs through CpuExecutable;
// with precision "f64" it is the float64 reference evaluator that the
// compiler's gradient checks trust, with "f32" it trains. A plain graph
// program runs unfused: one kernel per node.

import type { CpuProgram, GraphProgram, Step } from "../program/program.js";
export { bindDims, RunError } from "./bind.js";
import { CpuExecutable } from "./executable.js";
import type { NDArray, Precision } from "./ndarray.js";

/** One step per node: the unfused program. */
export function unfused(graph: GraphProgram): CpuProgram {
  const steps: Step[] = [];
  graph.nodes.forEach((n, i) => {
    if (n.op === "input" || n.op === "param") return;
    steps.push({ kind: n.op === "reshape" || n.op === "stopGradient" ? "alias" : "kernel", node: i });
  });
  return { graph, steps };
}

export interface RunOptions {
  readonly precision?: Precision;
}

/** Runs a program once (planning it for these sizes); for repeated runs keep a CpuExecutable. */
export function run(
  program: GraphProgram | CpuProgram,
  feeds: ReadonlyMap<string, NDArray>,
  params: ReadonlyMap<string, NDArray>,
  options: RunOptions = {},
): Map<string, NDArray> {
  const p = "steps" in program ? program : unfused(program);
  return new CpuExecutable(p, options.precision ?? "f32").run(feeds, params);
}
