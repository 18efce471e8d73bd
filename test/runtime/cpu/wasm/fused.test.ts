// Fused elementwise groups as WebAssembly SIMD loops (runtime/cpu/wasm/fused.ts)
// against the JavaScript block interpreter computing in float32: each op
// rounds once in both, so the results must be bit for bit the same (NaN
// counted equal to NaN). Covered: every lane op in f32 and i32, sizes that
// are not multiples of 4 (1, 3, 5, 17, 1001), broadcasts whose inner run is or
// is not a multiple of 4, a transpose, slices, pads with fill values, iota,
// random draws, and reshapes inside a group. Each case also checks that all
// its steps ran as WebAssembly.

import test, { type ExecutionContext } from "ava";
import { lowerCpu } from "../../../../compiler/codegen/cpu.js";
import type { Graph, Node } from "../../../../compiler/ir/node.js";
import { make } from "../../../../compiler/ops/make.js";
import { CpuExecutable } from "../../../../runtime/cpu/executable.js";
import type { NDArray } from "../../../../runtime/cpu/ndarray.js";
import { Random } from "../../../../runtime/random.js";
import { input } from "../../../helpers/gradcheck.js";

const f = (op: Parameters<typeof make>[0], ...xs: Node[]): Node => make(op, xs, {} as never) as Node;
const lit = (value: number, shape: readonly number[], dtype: "f32" | "i32" = "f32"): Node => make("const", [], { value, shape, dtype });
const bcast = (x: Node, shape: readonly number[], dims: readonly number[]): Node => make("broadcast", [x], { shape, dims });

function feedsFor(g: Graph, seed: number): Map<string, NDArray> {
  const r = new Random(seed);
  return new Map(
    g.inputs.map((i) => {
      const shape = i.shape.map(Number);
      const n = shape.reduce((a, b) => a * b, 1);
      const data = i.dtype === "i32" ? Int32Array.from({ length: n }, () => r.int(21) - 10) : Float32Array.from({ length: n }, () => (r.uniform() < 0.05 ? 0 : 4 * r.uniform() - 2));
      return [i.attrs.name, { shape, data }] as const;
    }),
  );
}

const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)) || (a === 0 && b === 0);

/** Runs g on the wasm and the JavaScript f32 executables; every output must agree bit for bit, every step must run as wasm. */
function check(t: ExecutionContext, name: string, ...outputs: Node[]): void {
  const inputs = [...new Set(outputs.flatMap(function sources(n: Node): Node[] {
    return n.op === "input" ? [n] : n.inputs.flatMap(sources);
  }))];
  const g: Graph = { name, inputs: inputs as never, outputs: outputs.map((node, i) => ({ name: `y${i}`, node })) };
  const program = lowerCpu(g);
  const feeds = feedsFor(g, name.length);
  const wasm = new CpuExecutable(program, "f32");
  const js = new CpuExecutable(program, "f32", { products: "js" });
  const got = wasm.run(feeds, new Map());
  const want = js.run(feeds, new Map());
  const { wasm: ran, steps } = wasm.coverage({});
  t.is(ran, steps, `${name}: ${steps - ran} step(s) ran in JavaScript`);
  for (const [k, w] of want) {
    const y = got.get(k)!;
    t.deepEqual(y.shape, w.shape);
    for (let i = 0; i < w.data.length; i++) {
      if (!same(y.data[i]!, w.data[i]!)) return t.fail(`${name} ${k}[${i}]: ${y.data[i]} from wasm, ${w.data[i]} from JavaScript`);
    }
  }
}

for (const n of [1, 3, 5, 17, 1001]) {
  test(`f32 lane ops over ${n} elements`, (t) => {
    const a = input("a", [n]);
    const b = input("b", [n]);
    const s = [n];
    const y0 = f("sub", f("maximum", f("add", f("mul", a, b), lit(0.5, s)), lit(0, s)), f("div", a, f("add", f("abs", b), lit(1, s))));
    const y1 = f("minimum", f("sqrt", f("abs", a)), f("neg", f("sign", b)));
    const y2 = make("where", [f("greater", a, b), f("div", a, b), make("where", [f("less", a, b), b, f("equal", a, b)].map((x, i) => (i === 2 ? make("cast", [x], { to: "f32" }) : x)), {})], {});
    const y3 = f("div", lit(1, s), b); // b has zeros: ±Infinity, and 0/0 below is NaN
    const y4 = f("maximum", f("div", f("sub", a, a), f("sub", b, b)), a);
    check(t, `f32-${n}`, y0, y1, y2, y3, y4);
  });
}

test("i32 lane ops and casts both ways", (t) => {
  const i = input("i", [13], "i32");
  const j = input("j", [13], "i32");
  const x = input("x", [13]);
  const s = [13];
  const k = f("add", f("mul", i, j), f("neg", f("abs", i)));
  const m = f("maximum", f("minimum", k, lit(30, s, "i32")), f("sign", j));
  const c = make("where", [f("greater", i, j), m, f("sub", j, i)], {});
  const truncated = make("cast", [f("mul", x, lit(7.5, s))], { to: "i32" });
  check(t, "i32", c, f("equal", i, j), f("less", i, j), make("cast", [c], { to: "f32" }), f("add", truncated, i));
});

for (const c of [1, 3, 4, 5, 8, 32]) {
  test(`broadcasts over a channel axis of ${c}: per channel, per row, a scalar, a middle axis`, (t) => {
    const x = input("x", [6, 5, c]);
    const perChannel = bcast(input("bias", [c]), [6, 5, c], [2]);
    const perRow = bcast(input("row", [6, 5, 1]), [6, 5, c], [0, 1, 2]);
    const scalar = bcast(input("s", []), [6, 5, c], []);
    const middle = bcast(input("m", [6, 1, c]), [6, 5, c], [0, 1, 2]);
    check(t, `bcast-${c}`, f("add", f("mul", x, perChannel), perRow), f("sub", f("mul", scalar, x), middle));
  });
}

test("a transpose, slices and pads read through in the group", (t) => {
  const x = input("x", [7, 6, 5]);
  const tr = make("transpose", [x], { perm: [2, 0, 1] });
  const other = input("o", [5, 7, 6]);
  const sliced = make("slice", [x], { begin: [1, 2, 1], size: [5, 3, 4] });
  const padded = make("pad", [input("p", [4, 3, 2])], { before: [1, 0, 2], after: [0, 2, 1], value: -3.5 });
  const q = input("q", [5, 5, 5]);
  const slicedInner = make("slice", [input("w", [9, 12])], { begin: [2, 3], size: [5, 8] });
  check(t, "maps", f("mul", tr, other), f("add", sliced, lit(1, [5, 3, 4])), f("sub", padded, q), f("neg", slicedInner));
});

test("a concat as a sum of pads: whole vectors of padding load four lanes at once, others lane by lane", (t) => {
  const part = (name: string, before: number, after: number, width = 8) => make("pad", [input(name, [5, width])], { before: [0, before], after: [0, after], value: 0 });
  const concat = f("add", f("add", part("p0", 0, 16), part("p1", 8, 8)), part("p2", 16, 0));
  const ragged = f("add", part("r0", 0, 5, 3), part("r1", 3, 0, 5)); // [5, 8] from widths 3 and 5
  const filled = make("pad", [input("v", [3, 4, 8])], { before: [1, 0, 4], after: [0, 1, 4], value: 2.5 });
  check(t, "concat", f("mul", concat, lit(3, [5, 24])), f("neg", ragged), f("add", filled, lit(1, [4, 5, 16])));
});

test("iota along each axis, random draws (a dropout mask) and a reshape inside a group", (t) => {
  const x = input("x", [6, 10]);
  const i0 = make("iota", [], { axis: 0, shape: [6, 10] });
  const i1 = make("iota", [], { axis: 1, shape: [6, 10] });
  const label = bcast(input("label", [6, 1], "i32"), [6, 10], [0, 1]);
  const oneHot = make("cast", [f("equal", i1, label)], { to: "f32" });
  const key = input("key", [2], "i32");
  const mask = f("less", make("random", [key], { shape: [6, 10], salt: 7 }), lit(0.3, [6, 10]));
  const dropped = make("where", [mask, lit(0, [6, 10]), f("mul", x, lit(1 / 0.7, [6, 10]))], {});
  const reshaped = make("reshape", [f("add", x, oneHot)], { shape: [60] });
  check(t, "sources", f("add", oneHot, f("mul", x, make("cast", [i0], { to: "f32" }))), dropped, f("mul", reshaped, lit(2, [60])), make("random", [key], { shape: [1003], salt: 3 }));
});

/** Units in the last place between two float32 values (0 for equal values and for two NaNs). */
function ulps(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  const bits = new Int32Array(Float32Array.of(a, b).buffer);
  const ordered = (v: number) => (v < 0 ? -0x80000000 - v : v);
  return Math.abs(ordered(bits[0]!) - ordered(bits[1]!));
}

test("the math functions in a fused group are within 2 ulp of the formulas (sin and cos: or 2e-9 near their zeros)", (t) => {
  const n = 4099;
  const a = input("a", [n]);
  const b = input("b", [n]);
  const s = [n];
  const scaled = f("mul", a, lit(20, s)); // [-40, 40]
  const unary = ["exp", "tanh", "erf", "softplus", "expm1", "sin", "cos"] as const;
  const outputs = [...unary.map((op) => f(op, scaled)), f("log", f("abs", scaled)), f("log1p", f("abs", a)), f("pow", f("abs", a), b)];
  const g: Graph = { name: "math", inputs: [a, b] as never, outputs: outputs.map((node, i) => ({ name: `y${i}`, node })) };
  const program = lowerCpu(g);
  const feeds = feedsFor(g, 11);
  const wasm = new CpuExecutable(program, "f32");
  const got = wasm.run(feeds, new Map());
  const want = new CpuExecutable(program, "f32", { products: "js" }).run(feeds, new Map());
  const { wasm: ran, steps } = wasm.coverage({});
  t.is(ran, steps);
  const names = [...unary, "log", "log1p", "pow"];
  names.forEach((name, k) => {
    const [y, w] = [got.get(`y${k}`)!.data, want.get(`y${k}`)!.data];
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const near = (name === "sin" || name === "cos") && Math.abs(y[i]! - w[i]!) <= 2e-9;
      if (!near) worst = Math.max(worst, ulps(y[i]!, w[i]!));
    }
    t.true(worst <= 2, `${name}: ${worst} ulp`);
  });
});
