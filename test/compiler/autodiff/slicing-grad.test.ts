// slice, pad, concat, stack and split differentiate: symbolic gradients in
// float64 against central differences, and twice (slice and pad are each
// other's VJP, so the second derivative goes through the same two ops).

import test from "ava";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import type { Node } from "../../../compiler/ir/node.js";
import { binary, reduce } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { checkGradient } from "../../helpers/gradcheck.js";

const sumAll = (x: Node) => reduce("sum", x, x.shape.map((_, i) => i));

test("slice, with a negative begin and size -1", (t) =>
  checkGradient(t, { inputs: [{ name: "x", shape: [4, 5, 3] }], build: ([x]) => ops.slice(x!, [1, -3, 0], [2, -1, 2]) }, 1));

test("pad with a non-zero fill", (t) =>
  checkGradient(t, { inputs: [{ name: "x", shape: [3, 2] }], build: ([x]) => ops.pad(x!, [[1, 2], [0, 3]], 1.5) }, 2));

test("concat of three tensors along a middle axis (negative)", (t) =>
  checkGradient(
    t,
    { inputs: [{ name: "a", shape: [2, 1, 3] }, { name: "b", shape: [2, 4, 3] }, { name: "c", shape: [2, 2, 3] }], build: ([a, b, c]) => ops.concat([a!, b!, c!], -2) },
    3,
  ));

test("stack along the last axis", (t) =>
  checkGradient(t, { inputs: [{ name: "a", shape: [3, 2] }, { name: "b", shape: [3, 2] }], build: ([a, b]) => ops.stack([a!, binary("mul", b!, a!)], -1) }, 4));

test("split into sizes and into equal parts, recombined", (t) =>
  checkGradient(
    t,
    {
      inputs: [{ name: "x", shape: [6, 4] }],
      build: ([x]) => {
        const [p, q, r] = ops.split(x!, [1, 3, 2], 0); // [1, 4], [3, 4], [2, 4]
        const [u, v] = ops.split(x!, 2, -1); // [6, 2] each
        return ops.concat([ops.binaryOp("mul", p!, r!), ops.unaryOp("tanh", q!), ops.reshapeTo(binary("mul", u!, v!), [3, 4])], 0);
      },
    },
    5,
  ));

test("differentiating twice through slice, pad and concat", (t) => {
  // h(x) = sum((d/dx sum(tanh(concat(x, slice(x)))^2))^2) needs the VJPs of the VJPs.
  checkGradient(
    t,
    {
      inputs: [{ name: "x", shape: [3, 4] }],
      build: ([x]) => {
        const y = ops.unaryOp("tanh", ops.concat([ops.pad(x!, [[1, 0], [0, 0]], 0.5), ops.slice(x!, [1, 0], [2, -1])], 0));
        const f = sumAll(binary("mul", y, y));
        const df = grad({ name: "f", inputs: [x] as never, outputs: [{ name: "f", node: f }] }, { inputs: ["x"] });
        const dx = df.outputs.find((o) => o.name === gradName("x"))!.node;
        return binary("mul", dx, dx);
      },
    },
    6,
  );
});
