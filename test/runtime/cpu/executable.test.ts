// The CPU executable's profile hook: every step of every run reports once,
// in order, with its ops, its sizes (a product's M x K x N) and where it ran (a matmul and a
// fused group in WebAssembly on the default engine; everything in JavaScript
// on the reference interpreter).

import test from "ava";
import { lowerCpu } from "../../../compiler/codegen/cpu.js";
import type { Graph } from "../../../compiler/ir/node.js";
import { make } from "../../../compiler/ops/make.js";
import { CpuExecutable, type StepTiming } from "../../../runtime/cpu/executable.js";
import { softmax } from "../../../compiler/ops/composite.js";
import type { WasmApi } from "../../../runtime/wasm/api.js";
import { input } from "../../helpers/gradcheck.js";

const a = input("a", [3, 4]);
const w = input("w", [4, 5]);
const y = make("maximum", [make("matmul", [a, w], { transA: false, transB: false }), make("const", [], { value: 0, shape: [3, 5], dtype: "f32" })], {});
const g: Graph = { name: "profiled", inputs: [a, w] as never, outputs: [{ name: "y", node: y }] };
const feeds = new Map([
  ["a", { shape: [3, 4], data: new Float32Array(12).fill(1) }],
  ["w", { shape: [4, 5], data: new Float32Array(20).fill(-1) }],
]);

for (const engine of ["wasm", "js"] as const) {
  test(`onStep reports each step of each run, on ${engine}`, (t) => {
    const seen: StepTiming[] = [];
    const exe = new CpuExecutable(lowerCpu(g), "f32", { products: engine, onStep: (s) => seen.push(s) });
    exe.run(feeds, new Map());
    exe.run(feeds, new Map());
    t.deepEqual(
      seen.map((s) => [s.label, s.engine]),
      [0, 1].flatMap(() => [["matmul 3x4x5", engine], ["fused[maximum] 3x5", engine]]),
    );
    t.true(seen.every((s) => s.ms >= 0));
  });
}

test("inputs written into the plan's own buffers (sourceViews) are run in place, without a copy", (t) => {
  const a = input("a", [3, 5]);
  const g: Graph = { name: "double", inputs: [a] as never, outputs: [{ name: "y", node: make("add", [a, a], {}) }] };
  const exe = new CpuExecutable(lowerCpu(g));
  const feeds = new Map([["a", { shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i) }]]);
  const views = exe.sourceViews(feeds);
  const view = views.get("a")!;
  t.deepEqual([...view.data], [...feeds.get("a")!.data]);
  t.not(view.data, feeds.get("a")!.data);
  t.deepEqual([...exe.run(views, new Map()).get("y")!.data], Array.from({ length: 15 }, (_, i) => 2 * i));
  // The next input, written into the view: the run reads it there.
  view.data.fill(1);
  t.deepEqual([...exe.run(views, new Map()).get("y")!.data], new Array(15).fill(2));
  // Another array is still copied in.
  t.deepEqual([...exe.run(feeds, new Map()).get("y")!.data], Array.from({ length: 15 }, (_, i) => 2 * i));
});

test("donated outputs are written over their sources where an elementwise step reads them element for element", (t) => {
  // pg = p gᵀ, then p2 = p - 0.5 (pg g): the update comes last, as a training step's does.
  const p = input("p", [4, 6]);
  const g = input("g", [4, 6]);
  const pg = make("matmul", [p, g], { transA: false, transB: true });
  const half = make("const", [], { value: 0.5, shape: [4, 6], dtype: "f32" } as never);
  const update = make("sub", [p, make("mul", [make("matmul", [pg, g], { transA: false, transB: false }), half], {})], {});
  const graph: Graph = { name: "step", inputs: [p, g] as never, outputs: [{ name: "p2", node: update }, { name: "pg", node: pg }] };
  const expected = (x: readonly number[]): number[] => x.map((v, k) => v - 0.5 * 16 * x.slice(6 * Math.floor(k / 6), 6 * Math.floor(k / 6) + 6).reduce((a, b) => a + b, 0));
  const start = Array.from({ length: 24 }, (_, i) => i / 64);
  const feeds = new Map([
    ["p", { shape: [4, 6], data: Float32Array.from(start) }],
    ["g", { shape: [4, 6], data: new Float32Array(24).fill(2) }],
  ]);
  const exe = new CpuExecutable(lowerCpu(graph), "f32", { donate: new Map([["p2", "p"]]) });
  const views = exe.sourceViews(feeds);
  const p2 = exe.run(views, new Map()).get("p2")!.data;
  // p2 lives in p's buffer.
  t.is(p2.byteOffset, views.get("p")!.data.byteOffset);
  const once = expected(start);
  t.deepEqual([...p2], [...Float32Array.from(once)]);
  // The next run updates it in place.
  t.deepEqual([...exe.run(views, new Map()).get("p2")!.data], [...Float32Array.from(expected([...Float32Array.from(once)]))]);
  // Not where a later step still reads the source: the update then computes into a buffer of its own.
  const late = make("matmul", [update, p], { transA: false, transB: true });
  const reread: Graph = { name: "reread", inputs: [p, g] as never, outputs: [{ name: "p2", node: update }, { name: "late", node: late }] };
  const exe2 = new CpuExecutable(lowerCpu(reread), "f32", { donate: new Map([["p2", "p"]]) });
  const views2 = exe2.sourceViews(feeds);
  const out2 = exe2.run(views2, new Map());
  t.not(out2.get("p2")!.data.byteOffset, views2.get("p")!.data.byteOffset);
  t.deepEqual([...views2.get("p")!.data], [...Float32Array.from(start)]);
  t.deepEqual([...out2.get("p2")!.data], [...Float32Array.from(once)]);
});

test.serial("prepare() compiles a plan's kernels asynchronously: a host that refuses synchronous compilation over 4 KB (a browser's main thread) runs it", async (t) => {
  const x = input("x", [64, 33]);
  // Every math function, then a softmax: a module of several kilobytes.
  const y = ["exp", "tanh", "erf", "sin", "cos", "log1p", "expm1", "softplus"].reduce((v, op) => make(op as "exp", [v], {}), x);
  const g: Graph = { name: "math", inputs: [x] as never, outputs: [{ name: "y", node: softmax(y) }] };
  const feeds = new Map([["x", { shape: [64, 33], data: Float32Array.from({ length: 64 * 33 }, (_, i) => Math.sin(i)) }]]);
  const expected = [...new CpuExecutable(lowerCpu(g)).run(feeds, new Map()).get("y")!.data];
  const exe = new CpuExecutable(lowerCpu(g));
  const fresh = new CpuExecutable(lowerCpu(g));
  const host = globalThis as unknown as { WebAssembly: WasmApi };
  const wasm = host.WebAssembly;
  const refuse = (what: string, bytes: number): void => {
    if (bytes > 4096) throw new RangeError(`WebAssembly.${what} is disallowed on the main thread, if the buffer size is larger than 4KB (${bytes})`);
  };
  const Module = new Proxy(wasm.Module, { construct: (target, args: [Uint8Array]) => (refuse("Module", args[0].byteLength), new target(...args)) });
  host.WebAssembly = new Proxy(wasm, { get: (target, key) => (key === "Module" ? Module : Reflect.get(target, key)) });
  try {
    t.throws(() => fresh.run(feeds, new Map()), { message: /WebAssembly.Module is disallowed on the main thread/ });
    await exe.prepare(feeds);
    t.deepEqual([...exe.run(feeds, new Map()).get("y")!.data], expected);
  } finally {
    host.WebAssembly = wasm;
  }
});
