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

test("a model with batch norm and dropout: the gradient entry runs in inference mode, without the running statistics", async (t) => {
  const source = `import { type Tensor, param, matmul, relu, batchNorm, dropout, softmaxCrossEntropy, sgd } from "dlc";
export function loss(x: Tensor<["batch", 4]>, y: Tensor<["batch"], "i32">): Tensor<[]> {
  const h = dropout(relu(batchNorm(matmul(x, param("w1", [4, 6], "he")), { name: "bn1", momentum: 0.9 })), 0.5);
  return softmaxCrossEntropy(matmul(h, param("w2", [6, 3], "glorot")), y);
}
export const train = { optimizer: sgd({ lr: 0.1 }), batch: 4, epochs: 1 };
`;
  const c = compile({ source, name: "bn.ts" }, { grad: ["loss"], webgpu: false });
  const frozen = c.params.filter((p) => p.trainable === false).map((p) => p.name);
  t.true(frozen.length === 2, `running statistics: ${frozen.join(", ")}`);
  const g = c.program.entries.find((e) => e.name === gradEntryName("loss"))!;
  t.deepEqual(g.inputs.map((i) => i.name), ["x", "y"], "no random key: dropout is off");
  t.deepEqual(
    g.outputs.map((o) => o.name).filter((n) => n.startsWith("grad/")),
    c.params.filter((p) => p.trainable !== false).map((p) => gradOutputName(p.name)).concat(gradOutputName("x")),
  );
  // Inference mode is deterministic and equals central differences of `loss` as every other entry computes it.
  const params = new Map(c.params.map((p) => [p.name, { shape: [...p.shape], data: sample(rng, p.shape, p.name.includes("var") ? { lo: 0.5, hi: 2 } : { lo: -1, hi: 1 }) }]));
  const feeds = new Map<string, NDArray>([["x", { shape: [4, 4], data: sample(rng, [4, 4]) }], ["y", { shape: [4], data: Int32Array.from([0, 1, 2, 1]) }]]);
  const symbolic = lowerAndRun(c.compilation.gradient("loss").graph, feeds, params);
  const value = () => lowerAndRun(c.compilation.simplified("loss"), feeds, params).get("loss")!.data[0]!;
  const w1 = params.get("w1")!.data;
  const numeric = w1.map((_, j) => {
    const saved = w1[j]!;
    w1[j] = saved + 1e-6;
    const up = value();
    w1[j] = saved - 1e-6;
    const down = value();
    w1[j] = saved;
    return (up - down) / 2e-6;
  });
  t.true(relativeError(symbolic.get(gradOutputName("w1"))!.data, numeric) < 1e-6);
  const m = await c.on("cpu");
  await m.setParams(Object.fromEntries([...params].map(([k, v]) => [k, f32(v)])));
  const twice = [await m.grad("loss")(f32(feeds.get("x")!), [0, 1, 2, 1]), await m.grad("loss")(f32(feeds.get("x")!), [0, 1, 2, 1])];
  t.deepEqual(twice[0], twice[1]);
  t.true(relativeError(twice[0]!.params.w1!.data, symbolic.get(gradOutputName("w1"))!.data) < 1e-5);
  m.dispose();
});
