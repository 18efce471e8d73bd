// The CPU interpreter: runs a program node by node on typed arrays. With
// precision "f64" it is the float64 reference evaluator that the compiler's
// gradient checks trust; with "f32" it trains.

import { evalShape, type DimEnv } from "../program/dim.js";
import type { GraphProgram } from "../program/program.js";
import { KERNELS } from "./kernels/index.js";
import type { Kernel } from "./kernels/types.js";
import { alloc, size, type NDArray, type Precision } from "./ndarray.js";

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

export interface RunOptions {
  readonly precision?: Precision;
}

export function run(
  program: GraphProgram,
  feeds: ReadonlyMap<string, NDArray>,
  params: ReadonlyMap<string, NDArray>,
  options: RunOptions = {},
): Map<string, NDArray> {
  const precision = options.precision ?? "f32";
  const env = bindDims(program, feeds);
  const values: NDArray[] = [];
  const inputOf = new Map(program.inputs.map((b) => [b.node, b.name]));
  program.nodes.forEach((node, i) => {
    const shape = evalShape(node.shape, env);
    const kernel = KERNELS[node.op];
    if (kernel === "source") {
      const name = node.op === "param" ? node.attrs.name : inputOf.get(i);
      const given = name === undefined ? undefined : node.op === "param" ? params.get(name) : feeds.get(name);
      if (!given) throw new RunError(`${node.op} '${name}' was not given`);
      if (size(given.shape) !== size(shape)) throw new RunError(`${node.op} '${name}' has shape [${given.shape.join(", ")}], expected [${shape.join(", ")}]`);
      values.push(convert(given, shape, node.dtype, precision));
    } else if (kernel === "alias") {
      values.push({ shape, data: values[node.inputs[0]!]!.data });
    } else {
      const out = alloc(shape, node.dtype, precision);
      (kernel as Kernel<typeof node.op>)(out, node.inputs.map((j) => values[j]!), node.attrs as never, env);
      values.push(out);
    }
  });
  return new Map(program.outputs.map((o) => [o.name, values[o.node]!]));
}

/** The given array as the interpreter stores that dtype at this precision (copying only when the type differs). */
function convert(a: NDArray, shape: readonly number[], dtype: "f32" | "i32", precision: Precision): NDArray {
  const want = dtype === "i32" ? Int32Array : precision === "f64" ? Float64Array : Float32Array;
  if (a.data instanceof want) return { shape, data: a.data };
  const out = alloc(shape, dtype, precision);
  out.data.set(a.data);
  return out;
}
