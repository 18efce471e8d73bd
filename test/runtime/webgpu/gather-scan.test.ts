// The WebGPU kernels for gather, scatterAdd and cumsum against the CPU
// interpreter: out-of-range indices (clamped alike), many repeated indices
// summed without a race, scans along every axis of awkward shapes, and each
// with an epilogue fused into its kernel.

import test from "ava";
import { partition } from "../../../compiler/fusion/kernels.js";
import type { Node } from "../../../compiler/ir/node.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { closeGpu, matchesCpu } from "../../helpers/gpu.js";
import { input, sample } from "../../helpers/gradcheck.js";

test.after.always(closeGpu);

const graph = (inputs: Node[], outputs: Record<string, Node>) => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });
const floats = (rng: Random, shape: number[]): NDArray => ({ shape, data: Float32Array.from(sample(rng, shape)) });
const ints = (rng: Random, shape: number[], lo: number, hi: number): NDArray => ({ shape, data: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + rng.int(hi - lo)) });

const GATHERS: { table: number[]; ids: number[]; axis: number }[] = [
  { table: [100, 16], ids: [7, 13], axis: 0 },
  { table: [5, 3, 7], ids: [11], axis: 1 },
  { table: [3, 9], ids: [4, 1, 5], axis: 1 },
  { table: [1], ids: [3], axis: 0 },
  { table: [6, 1, 2], ids: [], axis: 0 },
];

for (const { table, ids, axis } of GATHERS) {
  test.serial(`gather [${table}] by [${ids}] along axis ${axis}, out-of-range indices included, and its table gradient`, async (t) => {
    const rng = new Random(table.length, ids.length);
    const x = input("x", table);
    const i = input("i", ids, "i32");
    const y = ops.gather(x, i, axis);
    const n = table[axis]!;
    const dy = input("dy", y.shape as number[]);
    const dx = make("scatterAdd", [dy, i], { axis, size: n });
    const feeds = new Map([["x", floats(rng, table)], ["i", ints(rng, ids, -3, n + 3)], ["dy", floats(rng, y.shape as number[])]]);
    await matchesCpu(t, graph([x, i, dy], { y, dx }), feeds);
  });
}

test.serial("scatterAdd with thousands of repeats of a few rows sums them all (no race)", async (t) => {
  const rng = new Random(3, 3);
  const u = input("u", [4096, 8]);
  const i = input("i", [4096], "i32");
  const dx = make("scatterAdd", [u, i], { axis: 0, size: 5 });
  const feeds = new Map([["u", { shape: [4096, 8], data: new Float32Array(4096 * 8).fill(1) }], ["i", ints(rng, [4096], 0, 3)]]);
  await matchesCpu(t, graph([u, i], { dx }), feeds);
  const random = new Map([["u", floats(rng, [4096, 8])], ["i", ints(rng, [4096], -2, 7)]]);
  await matchesCpu(t, graph([u, i], { dx }), random, new Map(), { tol: 1e-5 });
});

test.serial("gather and scatterAdd run with their epilogues in one kernel each, over a symbolic batch", async (t) => {
  const rng = new Random(4, 4);
  const emb = input("emb", [30, 6]);
  const tokens = make("input", [], { name: "tokens", shape: ["batch", 5], dtype: "i32" });
  const y = ops.relu(ops.binaryOp("mul", ops.gather(emb, tokens), 2));
  const dy = make("input", [], { name: "dy", shape: ["batch", 5, 6], dtype: "f32" });
  const dx = ops.binaryOp("mul", make("scatterAdd", [dy, tokens], { axis: 0, size: 30 }), 0.5);
  const g = graph([emb, tokens, dy], { y, dx });
  t.deepEqual(partition(g).kernels.map((k) => k.kind), ["indexed", "indexed"]);
  await matchesCpu(t, g, new Map([["emb", floats(rng, [30, 6])], ["tokens", ints(rng, [3, 5], 0, 30)], ["dy", floats(rng, [3, 5, 6])]]));
});

const SCANS: { shape: number[]; axis: number }[] = [
  { shape: [1], axis: 0 },
  { shape: [37], axis: 0 },
  { shape: [3, 1, 129], axis: 2 },
  { shape: [300, 5], axis: 0 },
  { shape: [2, 7, 3], axis: 1 },
];

for (const { shape, axis } of SCANS) {
  test.serial(`cumsum of [${shape}] along axis ${axis}, in its four modes`, async (t) => {
    const rng = new Random(shape.length, axis);
    const x = input("x", shape);
    const outs: Record<string, Node> = {};
    for (const exclusive of [false, true]) for (const reverse of [false, true]) outs[`e${+exclusive}r${+reverse}`] = ops.cumsum(x, axis, exclusive, reverse);
    outs.epilogue = ops.unaryOp("exp", ops.binaryOp("mul", ops.cumsum(x, axis), 0.01));
    await matchesCpu(t, graph([x], outs), new Map([["x", floats(rng, shape)]]));
  });
}

test.serial("cumsum of integers is exact", async (t) => {
  const rng = new Random(5, 5);
  const x = input("x", [4, 33], "i32");
  await matchesCpu(t, graph([x], { y: ops.cumsum(x, -1), z: ops.cumsum(x, 0, true, true) }), new Map([["x", ints(rng, [4, 33], -50, 50)]]));
});
