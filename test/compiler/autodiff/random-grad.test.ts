// No gradient flows through a random draw, and a mask drawn from it is
// differentiated like any fixed mask: finite differences agree.

import test from "ava";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import type { Graph } from "../../../compiler/ir/node.js";
import { binary, full, mul, random, reduce, where } from "../../../compiler/ops/build.js";
import { OP_DEFS } from "../../../compiler/ops/registry.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { randomAt } from "../../../runtime/program/philox.js";
import { checkGradient, input } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

const KEY = { shape: [2], data: Int32Array.from([3, -4]) };

test("random's VJP gives its key nothing", (t) => {
  const r = random(input("k", [2], "i32"), [3], 0);
  t.deepEqual(OP_DEFS.random.vjp(r as never, full(1, [3])), [undefined]);
});

test("x * random and where(random < 0.4, x / 0.6, 0): finite differences agree", (t) => {
  const shape = [5, 7];
  checkGradient(t, { inputs: [{ name: "x", shape }], fixed: new Map([["key", KEY]]), build: ([x], f) => mul(x!, random(f.get("key")!, shape, 1)) }, 1);
  checkGradient(t, { inputs: [{ name: "x", shape }], fixed: new Map([["key", KEY]]), build: ([x], f) => where(binary("less", random(f.get("key")!, shape, 2), full(0.4, shape)), mul(x!, full(1 / 0.6, shape)), full(0, shape)) }, 2);
});

test("the gradient of sum(x * random) is the draws themselves", (t) => {
  const x = input("x", [10]);
  const key = input("key", [2], "i32");
  const loss = reduce("sum", mul(x, random(key, [10], 8)), [0]);
  const g = grad({ name: "f", inputs: [x, key] as never, outputs: [{ name: "loss", node: loss }] } as Graph, { inputs: ["x"] });
  const dx = lowerAndRun(g, new Map<string, NDArray>([["x", { shape: [10], data: new Float64Array(10) }], ["key", KEY]])).get(gradName("x"))!;
  t.deepEqual([...dx.data], Array.from({ length: 10 }, (_, i) => randomAt(i, 8, 3, -4)));
});
