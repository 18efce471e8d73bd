// Gradient checking: the symbolic gradient of a graph, evaluated in float64,
// against central finite differences of the graph itself.

import type { ExecutionContext } from "ava";
import { grad, gradName } from "../../compiler/autodiff/grad.js";
import { lowerAndRun } from "./run.js";
import type { Graph, Node } from "../../compiler/ir/node.js";
import { make } from "../../compiler/ops/make.js";
import { binary, reduce } from "../../compiler/ops/build.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { Random } from "../../runtime/random.js";

/** How an input is sampled: a range, optionally kept away from points (kinks, zeros). */
export interface Domain {
  readonly lo: number;
  readonly hi: number;
  /** Values closer than `margin` to any of these are resampled. */
  readonly avoid?: readonly number[];
  readonly margin?: number;
}

export const ANY: Domain = { lo: -2, hi: 2 };
export const POSITIVE: Domain = { lo: 0.2, hi: 2 };
export const AWAY_FROM_ZERO: Domain = { lo: -2, hi: 2, avoid: [0], margin: 0.05 };

export function sample(rng: Random, shape: readonly number[], d: Domain = ANY): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = d.lo + (d.hi - d.lo) * rng.uniform();
    while (d.avoid?.some((a) => Math.abs(v - a) < (d.margin ?? 0.05)));
    out[i] = v;
  }
  return out;
}

export function input(name: string, shape: readonly number[], dtype: "f32" | "i32" = "f32"): Node {
  return make("input", [], { name, shape, dtype });
}

export interface GradCase {
  /** Inputs to differentiate with respect to, with their sampling domains. */
  readonly inputs: readonly { name: string; shape: readonly number[]; domain?: Domain }[];
  /** Other inputs (integer labels, masks): fixed values. */
  readonly fixed?: ReadonlyMap<string, NDArray>;
  /** Builds the function's output from the input nodes (in `inputs` order, then fixed inputs by name). */
  readonly build: (xs: Node[], fixed: Map<string, Node>) => Node;
}

/**
 * Checks d/dx of sum(f(x) * r), r a random fixed tensor (so that every output
 * element matters), against central differences with step h, requiring the
 * normwise relative error ||g - fd|| / max(||g||, ||fd||, 1e-12) <= tol.
 */
export function checkGradient(t: ExecutionContext, c: GradCase, seed: number, tol = 1e-6, h = 1e-5): void {
  const rng = new Random(seed, 99);
  const xs = c.inputs.map((i) => input(i.name, i.shape));
  const fixedNodes = new Map([...(c.fixed ?? new Map<string, NDArray>())].map(([name, a]) => [name, input(name, a.shape, a.data instanceof Int32Array ? "i32" : "f32")]));
  const y = c.build(xs, fixedNodes);
  const r = input("__r", y.shape.map(Number));
  const loss = reduce("sum", binary("mul", y, r), y.shape.map((_, i) => i));
  const forward: Graph = { name: "f", inputs: [...xs, ...fixedNodes.values(), r] as never, outputs: [{ name: "loss", node: loss }] };
  const g = grad(forward, { inputs: c.inputs.map((i) => i.name) });

  const feeds = new Map<string, NDArray>(c.fixed ?? []);
  const values = c.inputs.map((i) => sample(rng, i.shape, i.domain));
  c.inputs.forEach((i, k) => feeds.set(i.name, { shape: i.shape, data: values[k]! }));
  feeds.set("__r", { shape: y.shape.map(Number), data: sample(rng, y.shape.map(Number)) });

  const symbolic = lowerAndRun(g, feeds);
  const f = lowerAndRun.bind(null, forward);
  c.inputs.forEach((inp, k) => {
    const x = values[k]!;
    const gradient = symbolic.get(gradName(inp.name))!;
    const analytic = gradient.data;
    const numeric = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const saved = x[j]!;
      x[j] = saved + h;
      const up = f(feeds).get("loss")!.data[0]!;
      x[j] = saved - h;
      const down = f(feeds).get("loss")!.data[0]!;
      x[j] = saved;
      numeric[j] = (up - down) / (2 * h);
    }
    const err = relativeError(gradient, { shape: inp.shape, data: numeric });
    t.true(err <= tol, `d/d${inp.name} [${inp.shape.join(", ")}]: relative error ${err.toExponential(2)} > ${tol}\n  symbolic ${[...analytic].slice(0, 6).map((v) => v.toPrecision(6))}\n  numeric  ${[...numeric].slice(0, 6).map((v) => v.toPrecision(6))}`);
  });
}

/** Values to compare: a flat array, or one with its shape (then shapes must match too). */
export type Compared = ArrayLike<number> | { readonly shape: readonly number[]; readonly data: ArrayLike<number> };

const valuesOf = (x: Compared): ArrayLike<number> => ("data" in x && "shape" in x ? x.data : (x as ArrayLike<number>));
const shapeOf = (x: Compared): readonly number[] | undefined => ("data" in x && "shape" in x ? x.shape : undefined);

/**
 * ||a - b|| / max(||a||, ||b||, 1e-12). Throws when the lengths differ, or the
 * shapes when both are given: comparing a prefix would pass a gradient of the
 * wrong size.
 */
export function relativeError(x: Compared, y: Compared): number {
  const a = valuesOf(x);
  const b = valuesOf(y);
  const [sa, sb] = [shapeOf(x), shapeOf(y)];
  if (sa !== undefined && sb !== undefined && (sa.length !== sb.length || sa.some((d, i) => d !== sb[i]))) {
    throw new Error(`relativeError: shapes differ, [${sa.join(", ")}] vs [${sb.join(", ")}]`);
  }
  if (a.length !== b.length) throw new Error(`relativeError: lengths differ, ${a.length} vs ${b.length}`);
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-12);
}
