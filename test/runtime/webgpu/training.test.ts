// Five training steps of every model in models/ on WebGPU, with either
// kernel family (kernel-family.ts; the hardware family forced on this
// software adapter), give the same weights as on the CPU: normwise relative error <= 1e-4 per parameter, and
// the loss of every step within 1e-4 (1e-3 with batch norm, see below). The optimizer state is
// held to 5e-4: Adam's second moment sums squared gradients, which doubles the
// relative rounding difference of gradients summed in another order (a
// convolution's filter gradient sums thousands of terms). Models with batch
// norm get 1e-3 for parameters and 1e-2 for optimizer state: batch norm makes
// the loss nearly invariant to a per-channel shift of what it normalizes, so
// the gradient of a shift before it (and of the kernel under it) is a sum
// that cancels to near rounding level. Its relative rounding error is large,
// and Adam's first step, lr * g / |g|, moves such an element by a full lr
// either way; they train at lr 1e-3 on pixels in 0..255 (stepSettings).
// (At initialization the CPU's float32 gradients of models/cnn-bn.ts were
// within 6e-7 of float64; the spread grows only through these steps.)

import test from "ava";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { Random } from "../../../runtime/random.js";
import { bothBackends, lossTolerance, modelTolerance, sameWeights, stepInputs, stepSettings } from "../../helpers/backends.js";
import { closeGpu, gpu } from "../../helpers/gpu.js";
import { KERNEL_FAMILIES } from "../../../runtime/program/gpu.js";
import { chooseKernel } from "../../../runtime/webgpu/kernel-family.js";
import { ROOT } from "../../helpers/paths.js";

test.after.always(closeGpu);

for (const family of KERNEL_FAMILIES) for (const file of readdirSync(join(ROOT, "models")).filter((f) => f.endsWith(".ts"))) {
  test.serial(`models/${file}: 5 steps on WebGPU with the ${family} kernels match the CPU`, async (t) => {
    const model = buildModel(join(ROOT, "models", file), { training: true, webgpu: true });
    const { onGpu, onCpu } = await bothBackends(t, model, 1, { kernels: family });
    t.is(onGpu.kernels, family);
    if (family === "hardware") {
      // Every product of the step runs a workgroup-tiled variant: none is too large for the device.
      const { limits } = (await gpu(t)).device;
      const products = model.train!.step.gpu!.kernels.filter((k) => k.variants);
      t.true(products.length > 0 && products.every((k) => chooseKernel(k, "hardware", limits).family === "hardware"));
    }
    const rng = new Random(file.length, 6);
    const { lr, pixels } = stepSettings(model);
    for (let step = 1; step <= 5; step++) {
      const inputs = stepInputs(model, file, rng, step === 5 ? 1 : 7, pixels); // the last step with a batch of 1
      const a = await onGpu.step(inputs, lr, step, true);
      const b = await onCpu.step(inputs, lr, step, true);
      t.true(Math.abs(a! - b!) <= lossTolerance(model) * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} on WebGPU, ${b} on the CPU`);
    }
    await sameWeights(t, onGpu, onCpu, modelTolerance(model));
  });
}
