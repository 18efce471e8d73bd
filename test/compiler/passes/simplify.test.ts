// Simplification preserves the value of every output (property test over
// random graphs, each pass's result verified), and each rewrite does what it
// says on small examples.

import test from "ava";
import { graphNodes } from "../../../compiler/ir/graph.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { opString } from "../../../compiler/ir/print.js";
import { verifyGraph } from "../../../compiler/ir/verify.js";
import { broadcastTo, full, reshape, transpose, transposeLast } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { algebra, eraseStopGradient } from "../../../compiler/passes/algebra.js";
import { cse } from "../../../compiler/passes/cse.js";
import { fold } from "../../../compiler/passes/fold.js";
import { simplify } from "../../../compiler/passes/simplify.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { input, relativeError, sample } from "../../helpers/gradcheck.js";
import { randomGraph } from "../../helpers/random-graph.js";
import { lowerAndRun } from "../../helpers/run.js";

function sameValues(t: import("ava").ExecutionContext, a: Map<string, NDArray>, b: Map<string, NDArray>, what: string) {
  for (const [name, x] of a) {
    const y = b.get(name)!;
    t.deepEqual(y.shape, x.shape, `${what}: shape of ${name}`);
    const finite = [...x.data].every(Number.isFinite) && [...y.data].every(Number.isFinite);
    if (finite) t.true(relativeError(x.data, y.data) <= 1e-12, `${what}: ${name} differs`);
    else t.deepEqual([...y.data].map(String), [...x.data].map(String), `${what}: ${name} differs`);
  }
}

for (let seed = 0; seed < 150; seed++) {
  test(`simplification preserves every output of random graph ${seed}`, (t) => {
    const { graph, inputShapes } = randomGraph(seed);
    verifyGraph(graph);
    const passes: string[] = [];
    const { graph: simplified } = simplify(graph, {
      check: (g, pass) => {
        passes.push(pass);
        verifyGraph(g);
      },
    });
    t.true(passes.includes("cse") && passes.includes("dce"));
    const rng = new Random(seed, 3);
    const feeds = new Map([...inputShapes].map(([name, shape]) => [name, { shape, data: sample(rng, shape) }] as const));
    sameValues(t, lowerAndRun(graph, feeds), lowerAndRun(simplified, feeds), `graph ${seed}`);
    t.true(graphNodes(simplified).length <= graphNodes(graph).length);
  });
}

// ---------------------------------------------------------------- single rewrites

const x = () => input("x", [2, 3]);
const single = (node: Node, inputs: Node[]): Graph => ({ name: "g", inputs: inputs as never, outputs: [{ name: "y", node }] });
const ops_ = (g: Graph) => graphNodes(g).filter((n) => n.op !== "input").map(opString);

test("algebra removes x * 1, 1 * x, x + 0, x - 0, x / 1 and --x", (t) => {
  const a = x();
  const one = full(1, [2, 3]);
  const zero = full(0, [2, 3]);
  let y = ops.binaryOp("mul", one, ops.binaryOp("mul", a, one));
  y = ops.binaryOp("sub", ops.binaryOp("add", zero, ops.binaryOp("add", y, zero)), zero);
  y = ops.unaryOp("neg", ops.unaryOp("neg", ops.binaryOp("div", y, one)));
  const g = algebra(single(y, [a]));
  t.is(g.outputs[0]!.node, a);
});

test("algebra turns x + (-y) into x - y and x - (-y) into x + y", (t) => {
  const [a, b] = [input("a", [3]), input("b", [3])];
  t.deepEqual(ops_(algebra(single(ops.binaryOp("add", a, ops.unaryOp("neg", b)), [a, b]))), ["sub"]);
  t.deepEqual(ops_(algebra(single(ops.binaryOp("sub", a, ops.unaryOp("neg", b)), [a, b]))), ["add"]);
});

test("a transpose of a transpose composes, to nothing when the permutations cancel", (t) => {
  const a = input("a", [2, 3, 4]);
  t.is(algebra(single(transpose(transpose(a, [1, 2, 0]), [2, 0, 1]), [a])).outputs[0]!.node, a);
  t.deepEqual(ops_(algebra(single(transpose(transpose(a, [1, 0, 2]), [0, 2, 1]), [a]))), ["transpose perm=[1, 2, 0]"]);
});

test("a slice of a slice is one slice; a slice of a pad is a slice of its input, or the fill value; split undoes concat", (t) => {
  const a = input("a", [5, 8]);
  t.deepEqual(ops_(algebra(single(ops.slice(ops.slice(a, [1, 2], [4, 5]), [1, 1], [2, 3]), [a]))), ["slice begin=[2, 3] size=[2, 3]"]);
  const padded = ops.pad(a, [[1, 2], [3, 0]], 0.5);
  t.deepEqual(ops_(algebra(single(ops.slice(padded, [2, 4], [3, 6]), [a]))), ["slice begin=[1, 1] size=[3, 6]"]);
  t.deepEqual(ops_(algebra(single(ops.slice(padded, [0, 0], [1, 11]), [a]))), ["const 0.5"], "the first row is all padding");
  t.deepEqual(ops_(algebra(single(ops.slice(padded, [0, 2], [3, 4]), [a]))), ["pad before=[1, 3] after=[2, 0] value=0.5", "slice begin=[0, 2] size=[3, 4]"], "across the edge: kept");
  // The pieces of a concat, split again, are the pieces: no kernel reads the concat.
  const [b, c] = [input("b", [5, 3]), input("c", [5, 2])];
  const parts = ops.split(ops.concat([a, b, c], 1), [8, 3, 2], 1);
  const g = simplify({ name: "g", inputs: [a, b, c] as never, outputs: parts.map((node, i) => ({ name: `p${i}`, node })) }).graph;
  t.deepEqual(g.outputs.map((o) => (o.node.op === "input" ? o.node.attrs.name : opString(o.node))), ["a", "b", "c"]);
  const rng = new Random(4, 4);
  const feeds = new Map([["a", { shape: [5, 8], data: sample(rng, [5, 8]) }]]);
  const window = single(ops.slice(ops.slice(padded, [1, 0], [6, 9]), [0, 2], [5, 6]), [a]);
  sameValues(t, lowerAndRun(window, feeds), lowerAndRun(algebra(window), feeds), "slice of slice of pad");
});

test("a reshape of a reshape is one reshape, and a reshape to the same shape is nothing", (t) => {
  const a = x();
  t.deepEqual(ops_(algebra(single(reshape(reshape(a, [6]), [3, 2]), [a]))), ["reshape"]);
  t.is(algebra(single(reshape(reshape(a, [6]), [2, 3]), [a])).outputs[0]!.node, a);
});

test("a sum over the axes a broadcast created is a multiplication by their size", (t) => {
  const a = input("a", [3]);
  const g = simplify(single(ops.sum(broadcastTo(a, [4, 5, 3]), [0, 1]), [a])).graph;
  t.deepEqual(ops_(g), ["const 20", "mul"]);
});

test("a max over the axes a broadcast created is the value itself", (t) => {
  const a = input("a", [3]);
  t.is(simplify(single(ops.max(broadcastTo(a, [4, 3]), [0]), [a])).graph.outputs[0]!.node, a);
});

test("keepDims reshapes fold into the broadcast that follows them", (t) => {
  const a = input("a", [4, 3]);
  const y = ops.binaryOp("sub", a, ops.max(a, [1], true));
  t.deepEqual(ops_(algebra(single(y, [a]))), ["max axes=[1]", "broadcast dims=[0]", "sub"]);
});

test("a transpose feeding a matmul becomes its transA/transB flag", (t) => {
  const [a, b] = [input("a", [3, 2]), input("b", [4, 3])];
  const y = make("matmul", [transposeLast(a), transposeLast(b)], { transA: false, transB: false });
  t.deepEqual(ops_(algebra(single(y, [a, b]))), ["matmul transA transB"]);
});

test("x ** 2 becomes x * x and x ** 1 becomes x", (t) => {
  const a = x();
  t.deepEqual(ops_(simplify(single(ops.binaryOp("pow", a, 2), [a])).graph), ["mul"]);
  t.is(simplify(single(ops.binaryOp("pow", a, 1), [a])).graph.outputs[0]!.node, a);
});

test("constant folding computes elementwise ops, movement and static reductions of constants", (t) => {
  const c = ops.sum(ops.binaryOp("mul", ops.unaryOp("exp", full(0, [2, 3])), full(3, [2, 3])), [0, 1]);
  const g = fold(single(c, []));
  const out = g.outputs[0]!.node;
  t.is(out.op, "const");
  t.is(out.op === "const" ? out.attrs.value : undefined, 18);
});

test("a symbolic constant is not folded into a number", (t) => {
  const b = input("b", [1]);
  const n = ops.binaryOp("div", full(1, []), full("batch", []));
  t.deepEqual(ops_(fold(single(ops.binaryOp("mul", b, n), [b]))), ["const 1", "const batch", "div", "broadcast dims=[]", "mul"]);
});

test("CSE merges equal nodes and keeps distinct inputs apart", (t) => {
  const [a, b] = [input("a", [3]), input("b", [3])];
  const y = ops.binaryOp("add", ops.unaryOp("exp", a), ops.unaryOp("exp", a));
  const z = ops.binaryOp("add", ops.unaryOp("exp", a), ops.unaryOp("exp", b));
  t.deepEqual(ops_(cse(single(y, [a, b]))), ["exp", "add"]);
  t.deepEqual(ops_(cse(single(z, [a, b]))), ["exp", "exp", "add"]);
});

test("stopGradient is erased only by its own pass, after differentiation", (t) => {
  const a = x();
  const y = make("stopGradient", [a], {});
  t.deepEqual(ops_(simplify(single(y, [a])).graph), ["stopGradient"]);
  t.is(eraseStopGradient(single(y, [a])).outputs[0]!.node, a);
});
