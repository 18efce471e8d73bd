// slice and pad on the CPU: the kernels against values written out by hand,
// and the fused loops (a slice as a strided read at an offset, a pad as a
// read or its fill) against the kernels, on shapes that cross block edges.

import test from "ava";
import { lowerCpu } from "../../../compiler/codegen/cpu.js";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { pad as padPrim, slice as slicePrim } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { SLICING_KERNELS } from "../../../runtime/cpu/kernels/slicing.js";
import type { Kernel } from "../../../runtime/cpu/kernels/types.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { sample } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

const graph = (inputs: Node[], outputs: Record<string, Node>): Graph => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });

/** An input whose shape may hold a symbolic size. */
const input = (name: string, shape: readonly (number | string)[], dtype: "f32" | "i32" = "f32"): Node => make("input", [], { name, shape, dtype });
const arange = (shape: number[]): NDArray => ({ shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i) });

test("slice kernel: x[1:3, 1:3] of a 3x4 arange", (t) => {
  const out = { shape: [2, 2], data: new Float64Array(4) };
  (SLICING_KERNELS.slice as Kernel<"slice">)(out, [arange([3, 4])], { begin: [1, 1], size: [2, 2] }, {});
  t.deepEqual([...out.data], [5, 6, 9, 10]);
});

test("pad kernel: a 2x2 arange with one row above, two columns after, filled with -1", (t) => {
  const out = { shape: [3, 4], data: new Float64Array(12).fill(7) }; // stale values must not survive
  (SLICING_KERNELS.pad as Kernel<"pad">)(out, [arange([2, 2])], { before: [1, 0], after: [0, 2], value: -1 }, {});
  t.deepEqual([...out.data], [-1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1]);
});

test("concat, stack and split give NumPy's values", (t) => {
  const a = input("a", [2, 2]);
  const b = input("b", [2, 1]);
  const feeds = new Map([["a", arange([2, 2])], ["b", { shape: [2, 1], data: Float64Array.from([10, 11]) }]]);
  const [p, q] = ops.split(a, 2, 0);
  const out = lowerAndRun(
    graph([a, b], {
      cat: ops.concat([a, b], -1),
      st: ops.stack([a, a], 1),
      p: p!,
      q: q!,
      tail: ops.slice(a, [-1, 1], [-1, -1]),
      padded: ops.pad(b, [[1, 0], [0, 1]], 5),
    }),
    feeds,
  );
  t.deepEqual([...out.get("cat")!.data], [0, 1, 10, 2, 3, 11]);
  t.deepEqual(out.get("st")!.shape, [2, 2, 2]);
  t.deepEqual([...out.get("st")!.data], [0, 1, 0, 1, 2, 3, 2, 3]);
  t.deepEqual([...out.get("p")!.data], [0, 1]);
  t.deepEqual([...out.get("q")!.data], [2, 3]);
  t.deepEqual([...out.get("tail")!.data], [3]);
  t.deepEqual([...out.get("padded")!.data], [5, 5, 10, 5, 11, 5]);
});

test("fused CPU loops compute slices and pads inline, equal to the kernels, across blocks", (t) => {
  const rng = new Random(5, 5);
  const x = input("x", [3, 37, 41]);
  const y = input("y", [3, 30, 41]);
  const cat = ops.concat([x, y], 1); // 3 x 67 x 41: 8241 elements, several blocks
  const s = ops.slice(x, [1, 3, 2], [2, 30, 39]);
  const g = graph([x, y], {
    cat2: ops.binaryOp("mul", cat, 2),
    mixed: ops.binaryOp("add", ops.pad(s, [[0, 1], [2, 5], [1, 1]], -3), ops.slice(cat, [0, 0, 0], [3, 37, 41])),
  });
  const fused = lowerCpu(g, { fusion: true });
  const catStep = fused.steps.filter((st) => st.kind === "fused");
  t.true(catStep.length >= 2, "concat * 2 and the other output are fused loops");
  // A view of a view is not composed on the CPU: the slice that the pad reads gets a buffer; every other view is read inline.
  const viewKernels = fused.steps.filter((st) => st.kind === "kernel" && ["pad", "slice"].includes(fused.graph.nodes[st.node]!.op));
  t.deepEqual(viewKernels.map((st) => fused.graph.nodes[st.node]!.op), ["slice"]);
  const feeds = new Map([
    ["x", { shape: [3, 37, 41], data: sample(rng, [3, 37, 41]) }],
    ["y", { shape: [3, 30, 41], data: sample(rng, [3, 30, 41]) }],
  ]);
  const want = lowerAndRun(g, feeds, new Map(), { fusion: false });
  const got = lowerAndRun(g, feeds, new Map(), { fusion: true });
  for (const name of ["cat2", "mixed"]) t.deepEqual([...got.get(name)!.data], [...want.get(name)!.data], name);
});

test("slices and pads of i32 tensors keep the dtype; a symbolic batch axis passes whole", (t) => {
  const x = input("x", ["batch", 4], "i32");
  const y = padPrim(slicePrim(x, [0, 1], ["batch", 2]), [0, 1], [0, 2], 9);
  t.is(y.dtype, "i32");
  t.deepEqual(y.shape, ["batch", 5]);
  const out = lowerAndRun(graph([x], { y }), new Map([["x", { shape: [2, 4], data: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]) }]]), new Map(), { fusion: true });
  t.deepEqual([...out.get("y")!.data], [9, 1, 2, 9, 9, 9, 5, 6, 9, 9]);
});
