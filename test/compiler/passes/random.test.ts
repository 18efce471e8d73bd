// Simplification keeps random draws apart: CSE merges two draws only when
// salt, shape and key all agree, and constant folding never folds a draw,
// not even from a constant key.

import test from "ava";
import { graphNodes } from "../../../compiler/ir/graph.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { opString } from "../../../compiler/ir/print.js";
import { add, full, random } from "../../../compiler/ops/build.js";
import { cse } from "../../../compiler/passes/cse.js";
import { fold } from "../../../compiler/passes/fold.js";
import { simplify } from "../../../compiler/passes/simplify.js";
import { randomAt } from "../../../runtime/program/philox.js";
import { input } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

const graph = (inputs: Node[], ...ys: Node[]): Graph => ({ name: "g", inputs: inputs as never, outputs: ys.map((node, i) => ({ name: i === 0 ? "y" : `y${i}`, node })) });
const draws = (g: Graph) => graphNodes(g).filter((n) => n.op === "random").map(opString).sort();

test("CSE keeps draws with other salts, shapes or keys, and merges identical ones", (t) => {
  const k = input("k", [2], "i32");
  const k2 = input("k2", [2], "i32");
  const y = [random(k, [4], 1), random(k, [4], 2), random(k2, [4], 1), random(k, [4], 1)].reduce(add);
  const g = graph([k, k2], y, random(k, [2, 2], 1));
  t.deepEqual(draws(cse(g)), ["random salt=1", "random salt=1", "random salt=1", "random salt=2"]);
  t.deepEqual(draws(simplify(g).graph), draws(cse(g)));
  t.is(draws(g).length, 5);
});

test("constant folding leaves a draw from a constant key alone, and it still draws", (t) => {
  const r = random(full(9, [2], "i32"), [3], 4);
  const folded = simplify(graph([], add(r, full(0, [3])))).graph;
  t.deepEqual(draws(fold(graph([], r))), ["random salt=4"]);
  t.deepEqual(draws(folded), ["random salt=4"]);
  t.deepEqual([...lowerAndRun(folded, new Map()).get("y")!.data], [0, 1, 2].map((i) => randomAt(i, 4, 9, 9)));
});
