// Binding a program's symbolic sizes from the arrays it is given.

import type { DimEnv } from "../program/dim.js";
import type { GraphProgram } from "../program/program.js";
import type { NDArray } from "./ndarray.js";

export class RunError extends Error {}

/** Binds the symbolic sizes of the program's inputs from the arrays fed to them. */
export function bindDims(program: GraphProgram, feeds: ReadonlyMap<string, NDArray>): DimEnv {
  const env: Record<string, number> = {};
  for (const { name, node } of program.inputs) {
    const declared = program.nodes[node]!.shape;
    const fed = feeds.get(name);
    if (!fed) throw new RunError(`input '${name}' was not given`);
    if (fed.shape.length !== declared.length) throw new RunError(`input '${name}' has rank ${fed.shape.length}, expected [${declared.join(", ")}]`);
    declared.forEach((d, i) => {
      const actual = fed.shape[i]!;
      if (typeof d === "number") {
        if (d !== actual) throw new RunError(`input '${name}' has size ${actual} on axis ${i}, expected ${d}`);
      } else if (env[d] === undefined) env[d] = actual;
      else if (env[d] !== actual) throw new RunError(`input '${name}' has ${d} = ${actual} on axis ${i}, but another input has ${d} = ${env[d]}`);
    });
  }
  return env;
}

