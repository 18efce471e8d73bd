import test from "ava";
import { matmul } from "../../compiler/ops/build.js";
import * as ops from "../../compiler/ops/composite.js";
import { make } from "../../compiler/ops/make.js";
import { closeGpu, matchesCpu } from "../helpers/gpu.js";
import { randomFeeds } from "../helpers/feeds.js";
test.after.always(closeGpu);
const input = (name: string, shape: readonly number[]) => make("input", [], { name, shape, dtype: "f32" });
for (const [m, k, n] of [[5, 7, 3], [64, 64, 64], [130, 37, 100], [1, 1, 1]]) for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
  test.serial(`mm ${m} ${k} ${n} ${ta} ${tb}`, async (t) => {
    const a = input("a", ta ? [k, m] : [m, k]);
    const b = input("b", tb ? [n, k] : [k, n]);
    const bias = input("bias", [n]);
    const z = ops.binaryOp("add", matmul(a, b, ta, tb), bias);
    const g = { name: "g", inputs: [a, b, bias] as never, outputs: [{ name: "z", node: z }, { name: "h", node: ops.relu(z) }] };
    const r = await matchesCpu(t, g, randomFeeds(g, m + n), new Map(), { family: "hardware" });
    t.log(r.error, r.kernels.map((k) => k.code.name));
  });
}
