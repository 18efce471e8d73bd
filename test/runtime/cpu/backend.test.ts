// Five training steps of every model in models/ on the CPU backend on
// WebAssembly (the default: SIMD kernels generated per plan, products on the
// SIMD GEMM, f32 sums) and on the JavaScript reference interpreter (f64 sums)
// give the same losses and the same weights, within the tolerances of the
// WebGPU comparison and trained the same way (test/helpers/backends.ts says
// why models with batch norm get more, and other steps). Batches of 9 then 1
// (a second plan), dropout keyed alike. The backends say what runs them.

import test from "ava";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import { initialize } from "../../../runtime/init/init.js";
import { Random } from "../../../runtime/random.js";
import { lossTolerance, modelTolerance, sameWeights, stepInputs, stepSettings } from "../../helpers/backends.js";
import { ROOT } from "../../helpers/paths.js";

const MODELS = readdirSync(join(ROOT, "models")).filter((f) => /^[a-z0-9-]+\.ts$/.test(f));

for (const file of MODELS) {
  test(`models/${file}: 5 steps on WebAssembly match the JavaScript interpreter`, async (t) => {
    const model = buildModel(join(ROOT, "models", file), { training: true, webgpu: false });
    const wasm = new CpuBackend(model);
    const js = new CpuBackend(model, { engine: "js" });
    t.is(wasm.products.kind, "wasm");
    t.regex(wasm.description, /WebAssembly SIMD128/);
    t.regex(js.description, /JavaScript/);
    const values = new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, 1, p.name)]));
    await wasm.load(values);
    await js.load(values);
    const rng = new Random(file.length, 3);
    const { lr, pixels } = stepSettings(model);
    for (let step = 1; step <= 5; step++) {
      const inputs = stepInputs(model, file, rng, step === 5 ? 1 : 9, pixels);
      const a = await wasm.step(inputs, lr, step, true, 5);
      const b = await js.step(inputs, lr, step, true, 5);
      t.true(Math.abs(a! - b!) <= lossTolerance(model) * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} with wasm, ${b} with JavaScript`);
    }
    await sameWeights(t, wasm, js, modelTolerance(model));
    if (wasm.products.kind === "wasm") t.true(wasm.products.engine.calls > 0);
  });
}
