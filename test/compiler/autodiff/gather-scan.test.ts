// Finite-difference gradient checks (as in grad.test.ts) for gather (with
// respect to the table, repeated and out-of-range indices included), its
// adjoint scatterAdd, cumsum in all four modes, and clip away from its bounds.

import test from "ava";
import type { NodeOf } from "../../../compiler/ir/node.js";
import { OP_DEFS } from "../../../compiler/ops/registry.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { checkGradient, input } from "../../helpers/gradcheck.js";

const idx = (shape: number[], values: number[]) => ({ shape, data: Int32Array.from(values) });

test("gather along axis 0 with repeated indices: the table's gradient sums the repeats", (t) => {
  const ids = idx([2, 3], [1, 1, 0, 4, 1, 0]);
  checkGradient(t, { inputs: [{ name: "table", shape: [5, 3] }], fixed: new Map([["ids", ids]]), build: ([x], f) => ops.gather(x!, f.get("ids")!) }, 1);
});

test("gather along a middle axis, with out-of-range indices clamped", (t) => {
  const ids = idx([4], [2, -3, 9, 2]);
  checkGradient(t, { inputs: [{ name: "table", shape: [2, 3, 4] }], fixed: new Map([["ids", ids]]), build: ([x], f) => ops.gather(x!, f.get("ids")!, 1) }, 2);
});

test("gather along the last axis (negative axis)", (t) => {
  const ids = idx([3, 2], [0, 0, 2, 1, 2, 2]);
  checkGradient(t, { inputs: [{ name: "table", shape: [2, 3] }], fixed: new Map([["ids", ids]]), build: ([x], f) => ops.gather(x!, f.get("ids")!, -1) }, 3);
});

test("scatterAdd's gradient with respect to the updates (a second derivative of gather)", (t) => {
  const ids = idx([5], [3, 0, 3, 3, 1]);
  checkGradient(t, {
    inputs: [{ name: "u", shape: [2, 5, 3] }],
    fixed: new Map([["ids", ids]]),
    build: ([u], f) => make("scatterAdd", [u!, f.get("ids")!], { axis: 1, size: 4 }),
  }, 4);
});

test("gather's indices have no gradient", (t) => {
  const table = input("table", [5, 2]);
  const ids = input("ids", [3], "i32");
  const y = ops.gather(table, ids);
  const [dTable, dIds] = OP_DEFS.gather.vjp(y as NodeOf<"gather">, input("g", y.shape as number[]));
  t.is(dIds, undefined);
  t.is(dTable!.op, "scatterAdd");
  t.deepEqual(dTable!.shape, table.shape);
});

for (const exclusive of [false, true]) {
  for (const reverse of [false, true]) {
    test(`cumsum (exclusive ${exclusive}, reverse ${reverse}) along each axis`, (t) => {
      for (const axis of [0, 1, -1]) {
        checkGradient(t, { inputs: [{ name: "x", shape: [3, 4, 2] }], build: ([x]) => ops.cumsum(x!, axis, exclusive, reverse) }, 5 + axis);
      }
    });
  }
}

test("clip away from its bounds: the gradient passes strictly inside, is zero outside", (t) => {
  // Values in [-2, 2], bounds at -1 and 1, kept away from both.
  checkGradient(t, { inputs: [{ name: "x", shape: [4, 5], domain: { lo: -2, hi: 2, avoid: [-1, 1], margin: 0.05 } }], build: ([x]) => ops.clip(x!, -1, 1) }, 6);
  checkGradient(t, {
    inputs: [{ name: "x", shape: [3, 4] }, { name: "lo", shape: [4], domain: { lo: -3, hi: -2.2 } }, { name: "hi", shape: [3, 1], domain: { lo: 2.2, hi: 3 } }],
    build: ([x, lo, hi]) => ops.clip(x!, lo!, hi!),
  }, 7);
});
