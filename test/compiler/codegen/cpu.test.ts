// The fused CPU program computes exactly what the unfused one does (the same
// operations in the same order per element), in float64 and float32, on
// random graphs and on the training graph of every model, with fewer steps.

import test from "ava";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { classCount } from "../../../compiler/ir/analysis.js";
import type { Graph } from "../../../compiler/ir/node.js";
import { binary } from "../../../compiler/ops/build.js";
import { make } from "../../../compiler/ops/make.js";
import type { NDArray, Precision } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { sample } from "../../helpers/gradcheck.js";
import { randomGraph } from "../../helpers/random-graph.js";
import { ROOT } from "../../helpers/paths.js";
import { lowerAndRun } from "../../helpers/run.js";

function identical(t: import("ava").ExecutionContext, g: Graph, feeds: Map<string, NDArray>, params: Map<string, NDArray>, precision: Precision) {
  const plain = lowerAndRun(g, feeds, params, { precision, fusion: false });
  const copy = new Map([...plain].map(([k, v]) => [k, [...v.data].map(String)]));
  const fused = lowerAndRun(g, feeds, params, { precision, fusion: true });
  for (const [name, values] of copy) t.deepEqual([...fused.get(name)!.data].map(String), values, `${g.name}: output ${name} (${precision})`);
}

for (let seed = 0; seed < 60; seed++) {
  test(`fused and unfused programs agree bit for bit on random graph ${seed}`, (t) => {
    const { graph, inputShapes } = randomGraph(seed, 18);
    const rng = new Random(seed, 9);
    const feeds = new Map([...inputShapes].map(([name, shape]) => [name, { shape, data: sample(rng, shape) }] as const));
    identical(t, graph, feeds, new Map(), "f64");
    identical(t, graph, new Map([...feeds].map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }])), new Map(), "f32");
  });
}

for (const file of readdirSync(join(ROOT, "models")).filter((f) => f.endsWith(".ts"))) {
  test(`models/${file}: the fused training step equals the unfused one and takes fewer steps`, (t) => {
    const compilation = new Compilation(join(ROOT, "models", file));
    const program = compilation.source();
    const g = compilation.training().graph;
    const rng = new Random(1, 2);
    const feeds = new Map<string, NDArray>();
    for (const i of g.inputs) {
      const shape = i.shape.map((d) => (typeof d === "number" ? d : 5));
      const n = shape.reduce((a, b) => a * b, 1);
      if (i.dtype === "i32") feeds.set(i.attrs.name, { shape, data: Int32Array.from({ length: n }, () => rng.int(classCount(g, i.attrs.name)!)) });
      else feeds.set(i.attrs.name, { shape, data: Float32Array.from(sample(rng, shape, { lo: 0, hi: 1 })) });
    }
    const params = new Map(program.params.map((p) => [p.name, { shape: [...p.shape], data: Float32Array.from(sample(rng, p.shape, { lo: -0.1, hi: 0.1 })) }]));
    identical(t, g, feeds, params, "f32");
    const fusedSteps = compilation.cpu(g).steps.length;
    const plainSteps = compilation.cpu(g, false).steps.length;
    t.log(`${file}: ${plainSteps} steps unfused, ${fusedSteps} fused`);
    t.true(fusedSteps < plainSteps);
  });
}

test("a value read at its own index and through a transpose (transpose(x) + x, x computed or iota) is a buffer both read", (t) => {
  const a = make("input", [], { name: "a", shape: [3, 3], dtype: "f32" });
  const x = binary("mul", a, a);
  const i = make("iota", [], { shape: [3, 3], axis: 1 });
  const y = binary("add", make("transpose", [x], { perm: [1, 0] }), x);
  const z = binary("add", make("transpose", [i], { perm: [1, 0] }), i);
  const g: Graph = { name: "g", inputs: [a], outputs: [{ name: "y", node: y }, { name: "z", node: z }] };
  const feeds = new Map([["a", { shape: [3, 3], data: Float64Array.from({ length: 9 }, (_, k) => k + 1) }]]);
  identical(t, g, feeds, new Map(), "f64");
  t.deepEqual([...lowerAndRun(g, feeds, new Map(), { fusion: true }).get("z")!.data], [0, 1, 2, 1, 2, 3, 2, 3, 4]);
});
