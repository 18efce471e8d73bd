// Evaluates a graph in float64, caching its lowered program between calls.

import { toProgram } from "../../compiler/ir/lower.js";
import type { Graph } from "../../compiler/ir/node.js";
import { run } from "../../runtime/cpu/interpreter.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import type { GraphProgram } from "../../runtime/program/program.js";

const programs = new WeakMap<Graph, GraphProgram>();

export function lowerAndRun(g: Graph, feeds: ReadonlyMap<string, NDArray>, params: ReadonlyMap<string, NDArray> = new Map()): Map<string, NDArray> {
  let p = programs.get(g);
  if (!p) programs.set(g, (p = toProgram(g)));
  return run(p, feeds, params, { precision: "f64" });
}
