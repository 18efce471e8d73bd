// sigmoid and the tanh form of GELU are computed as 1 / (1 + e^-z), e^-z
// capped at e^40 (compiler/ops/composite.ts): against their textbook float64
// formulas, on the CPU in float32 (WebAssembly and the JavaScript
// interpreter) and in the float64 reference, from -200 to 200. Where the cap
// does not act, the error is relative; past it, the values are below 4.3e-18
// and the error is absolute. The gradients stay finite everywhere.

import test from "ava";
import { grad, gradName } from "../../../compiler/autodiff/grad.js";
import { lowerCpu } from "../../../compiler/codegen/cpu.js";
import type { Graph } from "../../../compiler/ir/node.js";
import * as ops from "../../../compiler/ops/composite.js";
import { make } from "../../../compiler/ops/make.js";
import { CpuExecutable } from "../../../runtime/cpu/executable.js";
import { lowerAndRun } from "../../helpers/run.js";

const xs = Float32Array.from([
  ...Array.from({ length: 4001 }, (_, i) => -200 + i * 0.1),
  ...Array.from({ length: 2001 }, (_, i) => (i - 1000) * 1e-3),
  -0,
  1e-30,
  -1e-30,
]);
const n = xs.length;
const x = make("input", [], { name: "x", shape: [n], dtype: "f32" });
const feeds = new Map([["x", { shape: [n], data: xs }]]);
const C = Math.sqrt(2 / Math.PI);

const CASES = {
  // 1 / (1 + e^-x); the cap acts below x = -40.
  sigmoid: { node: ops.sigmoid(x), f: (v: number) => 1 / (1 + Math.exp(-v)), capped: (v: number) => v < -40, amplification: () => 1 },
  // x/2 (1 + tanh(u)), u = C (x + 0.044715 x^3). In float64 that form cancels as 1 + tanh(u) nears 0
  // (relative error 1e-16 / (1 + tanh(u))), so below 2u = -14 the reference is the equal x / (1 + e^-2u),
  // exact there in float64. The cap acts below 2u = -40.
  gelu: {
    node: ops.gelu(x),
    f: (v: number) => {
      const u = C * (v + 0.044715 * v ** 3);
      return 2 * u > -14 ? 0.5 * v * (1 + Math.tanh(u)) : v / (1 + Math.exp(-2 * u));
    },
    capped: (v: number) => 2 * C * (v + 0.044715 * v ** 3) < -40,
    // e^-2u's relative error is |2u| times u's, which float32 rounds (and its constants): any float32 GELU has it.
    amplification: (v: number) => 1 + Math.abs(2 * C * (v + 0.044715 * v ** 3)),
  },
};

for (const [name, c] of Object.entries(CASES)) {
  const g: Graph = { name, inputs: [x] as never, outputs: [{ name: "y", node: c.node }] };
  const runs: [string, ArrayLike<number>, number][] = [
    // The graph's constants (0.044715, 2 sqrt(2/pi)) are float32 even in the float64 evaluation.
    ["the float64 reference", lowerAndRun(g, feeds).get("y")!.data, 1e-9],
    ["WebAssembly, float32", new CpuExecutable(lowerCpu(g), "f32", { products: "wasm" }).run(feeds, new Map()).get("y")!.data, 4 * 2 ** -23],
    ["JavaScript, float32", new CpuExecutable(lowerCpu(g), "f32", { products: "js" }).run(feeds, new Map()).get("y")!.data, 4 * 2 ** -23],
  ];
  for (const [where, y, relative] of runs) {
    test(`${name} on ${where}: within ${relative.toExponential(1)} relative (times the condition of e^-z) where uncapped, 1e-16·max(1, |x|) absolute past the cap`, (t) => {
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const v = xs[i]!;
        const want = c.f(v);
        const got = y[i]!;
        if (!Number.isFinite(got)) return t.fail(`${name}(${v}) = ${got}`);
        if (c.capped(v)) {
          if (Math.abs(got - want) > 1e-16 * Math.max(1, Math.abs(v))) return t.fail(`${name}(${v}) = ${got}, expected ${want}`);
        } else if (Math.abs(got - want) > relative * c.amplification(v) * Math.abs(want) + 1e-45) return t.fail(`${name}(${v}) = ${got}, expected ${want} (error ${Math.abs(got - want) / Math.abs(want)})`);
        else if (want !== 0) worst = Math.max(worst, Math.abs(got - want) / Math.abs(want) / c.amplification(v));
      }
      t.log(`largest relative error where uncapped, over the condition: ${worst.toExponential(2)}`);
      t.pass();
    });
  }
}

test("the gradients of sigmoid and GELU are finite from -200 to 200, and match their derivatives", (t) => {
  for (const [name, c] of Object.entries(CASES)) {
    const w = make("input", [], { name: "w", shape: [n], dtype: "f32" });
    // d/dx sum(w * f(x)) = w * f'(x): the gradient of the elementwise function, scaled per element.
    const g: Graph = { name, inputs: [x, w] as never, outputs: [{ name: "loss", node: ops.sum(ops.binaryOp("mul", c.node, w)) }] };
    const gradient = grad(g, { inputs: ["x"] });
    const dy = lowerAndRun(gradient, new Map([...feeds, ["w", { shape: [n], data: new Float32Array(n).fill(1) }]])).get(gradName("x"))!.data;
    for (let i = 0; i < n; i++) {
      const v = xs[i]!;
      if (!Number.isFinite(dy[i]!)) return t.fail(`${name}'(${v}) = ${dy[i]}`);
      const h = 1e-6 * Math.max(1, Math.abs(v));
      const fd = (c.f(v + h) - c.f(v - h)) / (2 * h);
      if (!c.capped(v) && Math.abs(dy[i]! - fd) > 1e-6 * Math.max(1, Math.abs(fd))) return t.fail(`${name}'(${v}) = ${dy[i]}, central difference ${fd}`);
    }
  }
  t.pass();
});
