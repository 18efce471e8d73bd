// Five training steps of every model in models/ on the CPU backend on
// WebAssembly (the default: SIMD kernels generated per plan, products on the
// SIMD GEMM, f32 sums) and on the JavaScript reference interpreter (f64 sums)
// give the same losses and the same weights, within the tolerances of the
// WebGPU comparison (test/helpers/backends.ts, which says
// why models with batch norm get more), at lr 1e-3: the float64 sums of the
// interpreter differ from float32 ones by more than WebGPU's do, and Adam's
// first steps move an element whose gradient cancels to rounding noise by
// about lr either way. Batches of 9 then 1 (a second plan), dropout keyed
// alike. The backends say what runs them.

import test from "ava";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import { initialize } from "../../../runtime/init/init.js";
import { Random } from "../../../runtime/random.js";
import { lossTolerance, modelTolerance, sameWeights, stepInputs } from "../../helpers/backends.js";
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
    for (let step = 1; step <= 5; step++) {
      // Pixels in 0..255 for batch norm: the interpreter's float64 sums and the float32 ones part most
      // where nearly black images leave each channel nearly constant (stepInputs says why).
      const inputs = stepInputs(model, file, rng, step === 5 ? 1 : 9, model.params.some((p) => p.trainable === false) ? 255 : undefined);
      const a = await wasm.step(inputs, 1e-3, step, true, 5);
      const b = await js.step(inputs, 1e-3, step, true, 5);
      t.true(Math.abs(a! - b!) <= lossTolerance(model) * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} with wasm, ${b} with JavaScript`);
    }
    await sameWeights(t, wasm, js, modelTolerance(model));
    if (wasm.products.kind === "wasm") t.true(wasm.products.engine.calls > 0);
  });
}
