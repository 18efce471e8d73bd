// Gradient entries (`compile(file, { grad: [...] })`): a scalar entry point
// and its gradient with respect to every trainable parameter and f32 input,
// compiled as one more entry. The compiled graph is checked in float64
// against central finite differences of the entry itself, and the kernels of
// every backend (the CPU's WebAssembly, the JavaScript interpreter, WebGPU)
// against that float64 reference, through the programmatic API.

import test from "ava";
import { compile } from "../../../compiler/api.js";
import { CompileError } from "../../../compiler/frontend/diagnostics.js";
import { ArgumentError } from "../../../runtime/api/errors.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { gradEntryName, gradOutputName } from "../../../runtime/program/model.js";
import { Random } from "../../../runtime/random.js";
import { relativeError, sample } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

const MODEL = {
  name: "mlp.ts",
  source: `import { type Tensor, param, matmul, tanh, softmaxCrossEntropy, argmax, sum, mean, sgd } from "dlc";
function hidden(x: Tensor<["batch", 4]>): Tensor<["batch", 5]> {
  return tanh(matmul(x, param("w1", [4, 5], "glorot")) + param("b1", [5], "zeros"));
}
function logits(x: Tensor<["batch", 4]>): Tensor<["batch", 3]> {
  return matmul(hidden(x), param("w2", [5, 3], "glorot")) + param("b2", [3], "zeros");
}
export function predict(x: Tensor<["batch", 4]>): Tensor<["batch"], "i32"> {
  return argmax(logits(x), -1);
}
export function loss(x: Tensor<["batch", 4]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(x), label);
}
export function energy(x: Tensor<["batch", 4]>, scale: Tensor<[]>): Tensor<[]> {
  const h = hidden(x);
  return mean(sum(h * h, -1)) * scale;
}
export const train = { optimizer: sgd({ lr: 0.1 }), batch: 3, epochs: 1 };
`,
};

const SHAPES: Record<string, number[]> = { w1: [4, 5], b1: [5], w2: [5, 3], b2: [3] };
const rng = new Random(11, 3);
const PARAMS = new Map(Object.entries(SHAPES).map(([name, shape]) => [name, { shape, data: sample(rng, shape, { lo: -1, hi: 1 }) }]));
const X = { shape: [3, 4], data: sample(rng, [3, 4]) };
const FEEDS: Record<string, Map<string, NDArray>> = {
  loss: new Map<string, NDArray>([["x", X], ["label", { shape: [3], data: Int32Array.from([2, 0, 1]) }]]),
  energy: new Map<string, NDArray>([["x", X], ["scale", { shape: [], data: Float64Array.from([1.5]) }]]),
};
const WRT: Record<string, string[]> = { loss: ["w1", "b1", "w2", "b2", "x"], energy: ["w1", "b1", "x", "scale"] };

const compiled = compile(MODEL, { grad: ["loss", "energy"] });

for (const name of ["loss", "energy"]) {
  test(`the gradient entry of '${name}' matches central differences of the entry in float64`, (t) => {
    const forward = compiled.compilation.simplified(name);
    const gradient = compiled.compilation.gradient(name).graph;
    const symbolic = lowerAndRun(gradient, FEEDS[name]!, PARAMS);
    t.deepEqual([...symbolic.keys()], [name, ...Object.keys(SHAPES).filter((p) => name === "loss" || p.endsWith("1")).map(gradOutputName), ...(name === "loss" ? ["x"] : ["x", "scale"]).map(gradOutputName)]);
    const value = (feeds: Map<string, NDArray>, params: Map<string, NDArray>) => lowerAndRun(forward, feeds, params).get(name)!.data[0]!;
    t.is(symbolic.get(name)!.data[0], value(FEEDS[name]!, PARAMS));
    const h = 1e-6;
    for (const leaf of WRT[name]!) {
      const a = PARAMS.get(leaf) ?? FEEDS[name]!.get(leaf)!;
      const x = a.data as Float64Array;
      const numeric = new Float64Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const saved = x[j]!;
        x[j] = saved + h;
        const up = value(FEEDS[name]!, PARAMS);
        x[j] = saved - h;
        const down = value(FEEDS[name]!, PARAMS);
        x[j] = saved;
        numeric[j] = (up - down) / (2 * h);
      }
      const err = relativeError(symbolic.get(gradOutputName(leaf))!, { shape: a.shape, data: numeric });
      t.true(err < 1e-7, `d${name}/d${leaf}: relative error ${err.toExponential(2)}`);
    }
  });
}

/** The float64 reference of a gradient entry: value and every gradient. */
function reference(name: string): Map<string, NDArray> {
  return lowerAndRun(compiled.compilation.gradient(name).graph, FEEDS[name]!, PARAMS);
}

const f32 = (a: NDArray) => ({ shape: a.shape, data: a.data instanceof Int32Array ? a.data : Float32Array.from(a.data) });

for (const backend of ["cpu", "cpu-js", "webgpu"] as const) {
  test(`valueAndGrad and grad on ${backend} run the compiled kernels and agree with float64 within 1e-5`, async (t) => {
    const model = await compiled.on(backend);
    try {
      await model.setParams(Object.fromEntries([...PARAMS].map(([k, v]) => [k, f32(v)])));
      for (const name of ["loss", "energy"]) {
        const ref = reference(name);
        const inputs = [...FEEDS[name]!.values()].map(f32);
        const { value, grads } = await model.valueAndGrad(name)(...inputs);
        t.true(Math.abs(value - ref.get(name)!.data[0]!) <= 1e-5 * Math.abs(ref.get(name)!.data[0]!), `${name}: ${value} vs ${ref.get(name)!.data[0]}`);
        const leaves = { ...grads.params, ...grads.inputs };
        t.deepEqual(Object.keys(leaves).sort(), [...WRT[name]!].sort());
        for (const leaf of WRT[name]!) {
          const err = relativeError(leaves[leaf]!, ref.get(gradOutputName(leaf))!);
          t.true(err <= 1e-5, `${backend} d${name}/d${leaf}: relative error ${err.toExponential(2)}`);
        }
        const only = await model.grad(name)(...inputs);
        t.deepEqual(only, grads, "grad gives valueAndGrad's gradients");
      }
    } finally {
      model.dispose();
    }
  });
}

test("grad: true compiles the gradient of every f32 scalar entry, and only those", (t) => {
  const all = compile(MODEL, { grad: true, webgpu: false });
  t.deepEqual(all.gradients, ["loss", "energy"]);
  t.deepEqual(all.entries.map((e) => e.name), ["predict", "loss", "energy"]);
  t.true(all.program.entries.some((e) => e.name === gradEntryName("energy")));
  t.deepEqual(compile(MODEL, { webgpu: false }).gradients, []);
});

test("the gradient of a non-scalar entry is a located compile error; an entry compiled without one says how to get it", async (t) => {
  const e = t.throws(() => compile(MODEL, { grad: ["predict"], webgpu: false }), { instanceOf: CompileError }) as CompileError;
  t.is(e.diagnostic.code, "DLC3006");
  t.regex(e.message, /^mlp\.ts:9:10 - error DLC3006: cannot differentiate i32\[batch\].*\n9 \| {3}return argmax\(logits\(x\), -1\);\n {2}\| {10}\^\nhint: /);
  t.throws(() => compile(MODEL, { grad: ["nope"], webgpu: false }), { message: /no entry point 'nope'/ });
  const model = await compile(MODEL, { webgpu: false }).on("cpu-js");
  t.throws(() => model.valueAndGrad("loss"), { instanceOf: ArgumentError, message: /compiled without its gradient: compile with \{ grad: \["loss"\] \}/ });
  t.throws(() => model.grad("predict"), { instanceOf: ArgumentError, message: /returns i32\[batch\]: only an entry point returning an f32 scalar has a gradient/ });
  model.dispose();
});
