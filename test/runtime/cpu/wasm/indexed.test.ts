// gather, scatterAdd and cumsum as WebAssembly kernels against the JavaScript
// kernels, bit for bit, through the f32 executable: every axis of rank 1-3
// tables, rows of 1 to 5 elements, repeated and out-of-range indices
// (clamped), a scalar index; scatterAdd and cumsum over f32 values whose
// float32 sums would differ from float64's, and over i32 values that wrap.

import test from "ava";
import { lowerCpu } from "../../../../compiler/codegen/cpu.js";
import type { Graph, Node } from "../../../../compiler/ir/node.js";
import { make } from "../../../../compiler/ops/make.js";
import { CpuExecutable, type StepTiming } from "../../../../runtime/cpu/executable.js";
import type { NDArray } from "../../../../runtime/cpu/ndarray.js";
import { Random } from "../../../../runtime/random.js";

const input = (name: string, shape: number[], dtype: "f32" | "i32" = "f32") => make("input", [], { name, shape, dtype });
const graphOf = (inputs: Node[], y: Node): Graph => ({ name: "indexed", inputs: inputs as never, outputs: [{ name: "y", node: y }] });

/** y on the wasm executable and on the JavaScript interpreter, and the engines the wasm run used. */
function both(g: Graph, feeds: Map<string, NDArray>): { wasm: Float32Array | Int32Array; js: Float32Array | Int32Array; engines: string[] } {
  const engines: string[] = [];
  const onStep = (s: StepTiming) => engines.push(`${s.label.split(" ")[0]}:${s.engine}`);
  const wasm = new CpuExecutable(lowerCpu(g), "f32", { onStep }).run(feeds, new Map()).get("y")!.data.slice() as Float32Array | Int32Array;
  const js = new CpuExecutable(lowerCpu(g), "f32", { products: "js" }).run(feeds, new Map()).get("y")!.data.slice() as Float32Array | Int32Array;
  return { wasm, js, engines };
}

function sameBits(t: import("ava").ExecutionContext, a: Float32Array | Int32Array, b: Float32Array | Int32Array, what: string): void {
  const [u, v] = [new Int32Array(a.buffer, a.byteOffset, a.length), new Int32Array(b.buffer, b.byteOffset, b.length)];
  t.is(u.length, v.length, `${what}: length`);
  const i = u.findIndex((x, k) => x !== v[k]);
  t.is(i, -1, `${what}: element ${i} is ${a[i]} in WebAssembly, ${b[i]} in JavaScript`);
}

test("gather on every axis, rows of 1, 3 and 5, repeated and clamped indices, equals the JavaScript kernel", (t) => {
  const r = new Random(11);
  for (const shape of [[7], [4, 3], [3, 5, 2], [2, 3, 5], [6, 1, 3]]) {
    for (let axis = 0; axis < shape.length; axis++) {
      for (const dtype of ["f32", "i32"] as const) {
        const table = input("table", shape, dtype);
        const idx = input("idx", [2, 3], "i32");
        const g = graphOf([table, idx], make("gather", [table, idx], { axis }));
        const n = shape[axis]!;
        const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * r.uniform() - 1);
        const feeds = new Map<string, NDArray>([
          ["table", { shape, data: dtype === "f32" ? data : Int32Array.from(data, (v) => Math.round(v * 1000)) }],
          ["idx", { shape: [2, 3], data: Int32Array.from([n - 1, 0, -4, n + 2, 1 % n, n - 1]) }],
        ]);
        const { wasm, js, engines } = both(g, feeds);
        t.true(engines.every((e) => e.endsWith(":wasm")), engines.join(" "));
        sameBits(t, wasm, js, `gather ${dtype} [${shape}] axis ${axis}`);
      }
    }
  }
  // A scalar index drops the axis.
  const table = input("table", [3, 4]);
  const idx = input("idx", [], "i32");
  const { wasm, js } = both(graphOf([table, idx], make("gather", [table, idx], { axis: 1 })), new Map<string, NDArray>([["table", { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i) }], ["idx", { shape: [], data: Int32Array.of(2) }]]));
  t.deepEqual([...wasm], [2, 6, 10]);
  sameBits(t, wasm, js, "gather with a scalar index");
});

test("scatterAdd on every axis, rows of 1 to 5, repeated and clamped indices, sums in float64 as the JavaScript kernel does", (t) => {
  const r = new Random(13);
  for (const shape of [[7], [4, 3], [3, 5, 2], [2, 3, 5], [6, 1, 3], [2, 9, 4]]) {
    for (let axis = 0; axis < shape.length; axis++) {
      const n = shape[axis]!;
      const indices = [n - 1, 0, -4, n + 2, 1 % n, n - 1, 0, 0];
      const updatesShape = [...shape.slice(0, axis), indices.length, ...shape.slice(axis + 1)];
      const u = input("u", updatesShape);
      const idx = input("idx", [indices.length], "i32");
      const g = graphOf([u, idx], make("scatterAdd", [u, idx], { axis, size: n }));
      // Magnitudes over 10 decades: float32 sums would round differently from float64's.
      const data = Float32Array.from({ length: updatesShape.reduce((a, b) => a * b, 1) }, () => (r.uniform() - 0.5) * 10 ** (10 * r.uniform() - 5));
      const { wasm, js, engines } = both(g, new Map<string, NDArray>([["u", { shape: updatesShape, data }], ["idx", { shape: [indices.length], data: Int32Array.from(indices) }]]));
      t.true(engines.every((e) => e.endsWith(":wasm")), engines.join(" "));
      sameBits(t, wasm, js, `scatterAdd [${shape}] axis ${axis}`);
    }
  }
});

test("scatterAdd's float64 sums share the plan's scratch with the products': a scatter feeding a matmul", (t) => {
  const u = input("u", [5, 6]);
  const idx = input("idx", [5], "i32");
  const w = input("w", [6, 7]);
  const scattered = make("scatterAdd", [u, idx], { axis: 0, size: 4 });
  const g = graphOf([u, idx, w], make("matmul", [scattered, w], { transA: false, transB: false }));
  const r = new Random(14);
  const feeds = new Map<string, NDArray>([
    ["u", { shape: [5, 6], data: Float32Array.from({ length: 30 }, () => r.uniform() - 0.5) }],
    ["idx", { shape: [5], data: Int32Array.of(3, 0, 3, 1, 3) }],
    ["w", { shape: [6, 7], data: Float32Array.from({ length: 42 }, () => r.uniform() - 0.5) }],
  ]);
  const { wasm, js, engines } = both(g, feeds);
  t.deepEqual(engines, ["scatterAdd:wasm", "matmul:wasm"]);
  // The products differ in summation order between the engines; the scatter feeding them does not.
  for (let i = 0; i < wasm.length; i++) t.true(Math.abs(wasm[i]! - js[i]!) <= 1e-6, `element ${i}: ${wasm[i]} vs ${js[i]}`);
});

test("cumsum in its four modes on every axis equals the JavaScript kernel's float64 sums, and i32 sums wrap alike", (t) => {
  const r = new Random(12);
  for (const shape of [[1000], [5, 300], [3, 7, 5]]) {
    for (let axis = 0; axis < shape.length; axis++) {
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) {
          for (const dtype of ["f32", "i32"] as const) {
            const x = input("x", shape, dtype);
            const g = graphOf([x], make("cumsum", [x], { axis, exclusive, reverse }));
            const count = shape.reduce((a, b) => a * b, 1);
            // f32: magnitudes over 10 decades, so float32 running sums would round differently; i32: near the wrap.
            const data = dtype === "f32" ? Float32Array.from({ length: count }, () => (r.uniform() - 0.5) * 10 ** (10 * r.uniform() - 5)) : Int32Array.from({ length: count }, () => Math.floor((r.uniform() - 0.5) * 2 ** 31));
            const { wasm, js, engines } = both(g, new Map([["x", { shape, data }]]));
            t.true(engines.every((e) => e.endsWith(":wasm")), engines.join(" "));
            sameBits(t, wasm, js, `cumsum ${dtype} [${shape}] axis ${axis}${exclusive ? " exclusive" : ""}${reverse ? " reverse" : ""}`);
          }
        }
      }
    }
  }
});
