// slice, pad and the assemblies built from them on WebGPU, against the CPU
// interpreter, fused and unfused: views read inline by pointwise, row and
// matmul kernels (a pad as a select between its fill and a read of its input),
// and the views a kernel cannot read inline (a slice of a matmul's output).

import test from "ava";
import type { Graph, Node } from "../../../compiler/ir/node.js";
import { pad as padPrim, slice as slicePrim } from "../../../compiler/ops/build.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { closeGpu, matchesCpu } from "../../helpers/gpu.js";
import { sample } from "../../helpers/gradcheck.js";

test.after.always(closeGpu);

const graph = (inputs: Node[], outputs: Record<string, Node>): Graph => ({ name: "g", inputs: inputs as never, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) });

/** An input whose shape may hold a symbolic size. */
const input = (name: string, shape: readonly (number | string)[], dtype: "f32" | "i32" = "f32"): Node => make("input", [], { name, shape, dtype });

function feed(seed: number, xs: Node[], batch = 3): Map<string, NDArray> {
  const rng = new Random(seed, 11);
  return new Map<string, NDArray>(
    xs.map((x): [string, NDArray] => {
      const shape = x.shape.map((d) => (typeof d === "number" ? d : batch));
      const name = x.op === "input" ? x.attrs.name : "";
      if (x.dtype === "i32") return [name, { shape, data: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(9) - 4) }];
      return [name, { shape, data: Float32Array.from(sample(rng, shape)) }];
    }),
  );
}

const cases: { name: string; build: () => { g: Graph; inputs: Node[] } }[] = [
  {
    name: "concat * 2, slices with offsets, and a pad filled with -1",
    build: () => {
      const a = input("a", [5, 3]);
      const b = input("b", [5, 7]);
      const cat = ops.concat([a, b], 1);
      return {
        inputs: [a, b],
        g: graph([a, b], {
          twice: ops.binaryOp("mul", cat, 2),
          window: ops.unaryOp("exp", ops.slice(b, [1, 2], [3, 4])),
          framed: ops.binaryOp("add", ops.pad(a, [[2, 1], [0, 3]], -1), 0.5),
        }),
      };
    },
  },
  {
    name: "views of views: a slice of a pad of a computed value, and a pad of a slice",
    build: () => {
      const x = input("x", [4, 6]);
      const inner = ops.slice(ops.pad(ops.unaryOp("tanh", x), [[1, 1], [2, 0]], 3), [0, 1], [5, 6]);
      const outer = ops.pad(ops.slice(x, [1, 1], [2, 4]), [[1, 0], [0, 2]], 0);
      return { inputs: [x], g: graph([x], { inner, outer }) };
    },
  },
  {
    name: "a concat feeding a matmul, and a slice of a matmul's output",
    build: () => {
      const x = input("x", [6, 5]);
      const y = input("y", [6, 3]);
      const w = input("w", [8, 4]);
      const h = ops.matmul(ops.concat([x, y], -1), w);
      return { inputs: [x, y, w], g: graph([x, y, w], { h, head: ops.unaryOp("tanh", ops.slice(h, [2, 1], [3, 2])) }) };
    },
  },
  {
    name: "a softmax over a concat and a pad of a row reduction",
    build: () => {
      const x = input("x", [4, 5]);
      const y = input("y", [4, 2]);
      const s = ops.softmax(ops.concat([x, y], 1));
      const m = ops.pad(ops.sum(x, [1], true), [[0, 0], [1, 1]], 2);
      return { inputs: [x, y], g: graph([x, y], { s, m }) };
    },
  },
  {
    name: "stack and split over a symbolic batch, i32 slices and pads",
    build: () => {
      const x = input("x", ["batch", 6]);
      const k = input("k", ["batch", 4], "i32");
      const [p, q] = ops.split(x, 2, 1);
      const st = ops.stack([p!, ops.unaryOp("neg", q!)], 1);
      const ints = padPrim(slicePrim(k, [0, 1], ["batch", 2]), [0, 2], [0, 1], 7);
      return { inputs: [x, k], g: graph([x, k], { st, ints }) };
    },
  },
];

for (const c of cases) {
  for (const fusion of [true, false]) {
    test.serial(`${c.name} (${fusion ? "fused" : "unfused"})`, async (t) => {
      const { g, inputs } = c.build();
      await matchesCpu(t, g, feed(c.name.length, inputs), new Map(), { fusion });
    });
  }
}
