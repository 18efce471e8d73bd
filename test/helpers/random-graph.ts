// A generator of random, well-typed graphs for property tests of passes:
// elementwise chains with broadcasting, reductions with and without kept
// dims, reshapes, transposes, matmuls, and the constants 0, 1, -1 and 2 that
// make algebraic identities fire.

import type { Graph, Node, NodeOf } from "../../compiler/ir/node.js";
import { broadcastTo, full, reshape, transposeLast } from "../../compiler/ops/build.js";
import * as ops from "../../compiler/ops/composite.js";
import { make } from "../../compiler/ops/make.js";
import { Random } from "../../runtime/random.js";

const SHAPES = [[3], [2, 3], [4, 2, 3], [1, 3], [2, 1], [3, 3]];

export interface RandomGraph {
  readonly graph: Graph;
  readonly inputShapes: ReadonlyMap<string, number[]>;
}

/**
 * `finite`: no division by a constant 0 (WGSL may assume values are finite, so
 * GPU comparisons use graphs whose values are).
 */
export function randomGraph(seed: number, steps = 14, options: { finite?: boolean } = {}): RandomGraph {
  const rng = new Random(seed, 7);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const inputs: NodeOf<"input">[] = [];
  const inputShapes = new Map<string, number[]>();
  for (let i = 0; i < 2 + rng.int(2); i++) {
    const shape = pick(SHAPES);
    inputs.push(make("input", [], { name: `x${i}`, shape, dtype: "f32" }));
    inputShapes.set(`x${i}`, shape);
  }
  const pool: Node[] = [...inputs];
  const constant = (shape: readonly number[]) => full(pick([0, 1, -1, 2, 0.5]), shape);
  const tryAdd = (f: () => Node) => {
    try {
      pool.push(f());
    } catch {
      // Shapes did not fit; the generator just draws again.
    }
  };
  for (let s = 0; s < steps; s++) {
    const a = pick(pool);
    const b = pick(pool);
    const shape = a.shape as number[];
    switch (rng.int(11)) {
      case 0: tryAdd(() => ops.binaryOp(pick(["add", "sub", "mul", "maximum", "minimum"] as const), a, b)); break;
      case 1: {
        const op = pick(["add", "sub", "mul", "div"] as const);
        const c = options.finite && op === "div" ? full(pick([1, -1, 2, 0.5]), rng.uniform() < 0.5 ? shape : []) : constant(rng.uniform() < 0.5 ? shape : []);
        tryAdd(() => ops.binaryOp(op, a, c));
        break;
      }
      case 2: tryAdd(() => ops.unaryOp(pick(["neg", "tanh", "abs", "exp", "sign"] as const), rng.uniform() < 0.3 ? ops.unaryOp("neg", a) : a)); break;
      case 3: tryAdd(() => ops.sum(a, shape.length ? [rng.int(shape.length)] : [], rng.uniform() < 0.5)); break;
      case 4: tryAdd(() => ops.max(a, shape.length ? [rng.int(shape.length)] : [], rng.uniform() < 0.5)); break;
      case 5: tryAdd(() => reshape(reshape(a, [shape.reduce((x, y) => x * y, 1)]), shape.length > 1 ? [shape[0]!, shape.slice(1).reduce((x, y) => x * y, 1)] : shape)); break;
      case 6: tryAdd(() => (shape.length >= 2 ? ops.transpose(ops.transpose(a, [...rng.permutation(shape.length)])) : ops.unaryOp("neg", a))); break;
      case 7: tryAdd(() => ops.sum(broadcastTo(a, [2, ...shape]), [0])); break;
      case 8: tryAdd(() => (shape.length === 2 ? ops.matmul(rng.uniform() < 0.5 ? transposeLast(transposeLast(a)) : a, transposeLast(a)) : ops.mean(a, undefined, true))); break;
      case 9: tryAdd(() => ops.where(ops.binaryOp("greater", a, b), a, ops.binaryOp("mul", b, 1))); break;
      case 10: tryAdd(() => make("stopGradient", [ops.binaryOp("add", a, 0)], {})); break;
    }
  }
  const outputs = pool.slice(-3).map((node, i) => ({ name: `y${i}`, node }));
  return { graph: { name: `random${seed}`, inputs, outputs }, inputShapes };
}
