// Five training steps of models/mlp.ts and models/cnn.ts on the CPU backend
// with the WebAssembly SIMD GEMM (the default) and with the JavaScript GEMM
// give the same losses (within 1e-5) and the same weights (normwise relative
// error <= 1e-5 per parameter, 1e-4 for the optimizer state, whose Adam
// second moment doubles the relative difference of gradients summed in
// another order). The backends say which GEMM they use. (WebGPU against this
// backend: test/runtime/webgpu/training.test.ts.)

import test from "ava";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { initialize } from "../../../runtime/init/init.js";
import { Random } from "../../../runtime/random.js";
import { relativeError } from "../../helpers/gradcheck.js";
import { ROOT } from "../../helpers/paths.js";

for (const name of ["mlp", "cnn"]) {
  test(`models/${name}.ts: 5 steps with the wasm GEMM match the JavaScript GEMM`, async (t) => {
    const model = buildModel(join(ROOT, "models", `${name}.ts`), { training: true, webgpu: false });
    const wasm = new CpuBackend(model);
    const js = new CpuBackend(model, { gemm: "js" });
    t.is(wasm.products.kind, "wasm");
    t.regex(wasm.description, /WebAssembly SIMD GEMM/);
    t.regex(js.description, /JavaScript GEMM/);
    const values = new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, 1, p.name)]));
    await wasm.load(values);
    await js.load(values);
    const rng = new Random(name.length, 3);
    for (let step = 1; step <= 5; step++) {
      const batch = step === 5 ? 1 : 9;
      const inputs = new Map<string, NDArray>([
        ["pixels", { shape: [batch, 784], data: Float32Array.from({ length: batch * 784 }, () => 255 * rng.uniform()) }],
        ["label", { shape: [batch], data: Int32Array.from({ length: batch }, () => rng.int(10)) }],
      ]);
      const a = await wasm.step(inputs, 0.01, step, true);
      const b = await js.step(inputs, 0.01, step, true);
      t.true(Math.abs(a! - b!) <= 1e-5 * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} with wasm, ${b} with JavaScript`);
    }
    const [w, j] = [await wasm.read(), await js.read()];
    for (const [param, v] of j) {
      const tol = param.startsWith("opt/") ? 1e-4 : 1e-5;
      const err = relativeError(w.get(param)!, v);
      t.true(err <= tol, `${param}: relative error ${err.toExponential(2)} > ${tol}`);
    }
    if (wasm.products.kind === "wasm") t.true(wasm.products.engine.calls > 0);
  });
}
