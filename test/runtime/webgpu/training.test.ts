// Five training steps of every model in models/ on WebGPU give the same
// weights as on the CPU interpreter: normwise relative error <= 1e-4 per
// parameter, and the loss of every step within 1e-4. The optimizer state is
// held to 5e-4: Adam's second moment sums squared gradients, which doubles the
// relative rounding difference of gradients summed in another order (a
// convolution's filter gradient sums thousands of terms). Models with batch
// norm get 1e-3 for parameters and 1e-2 for optimizer state: batch norm makes
// the loss nearly invariant to a per-channel shift of what it normalizes, so
// the gradient of a shift before it (and of the kernel under it) is a sum
// that cancels to near rounding level. Its relative rounding error is large,
// and Adam's first step, lr * g / |g|, moves such an element by a full lr
// either way. (At initialization the CPU's float32 gradients of models/cnn-bn.ts
// are within 6e-7 of float64; the spread grows only through these steps.)

import test from "ava";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { entryOf } from "../../../runtime/program/model.js";
import { Random } from "../../../runtime/random.js";
import { bothBackends, sameWeights, STEP_TOLERANCE } from "../../helpers/backends.js";
import { closeGpu } from "../../helpers/gpu.js";
import { sample } from "../../helpers/gradcheck.js";
import { ROOT } from "../../helpers/paths.js";

test.after.always(closeGpu);

for (const file of readdirSync(join(ROOT, "models")).filter((f) => f.endsWith(".ts"))) {
  test.serial(`models/${file}: 5 steps on WebGPU match the CPU`, async (t) => {
    const model = buildModel(join(ROOT, "models", file), { training: true, webgpu: true });
    const { onGpu, onCpu } = await bothBackends(t, model);
    const loss = entryOf(model, "loss")!;
    const rng = new Random(file.length, 6);
    for (let step = 1; step <= 5; step++) {
      const batch = step === 5 ? 1 : 7; // the last step with a batch of 1
      const inputs = new Map<string, NDArray>();
      for (const i of loss.inputs) {
        const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
        const n = shape.reduce((a, b) => a * b, 1);
        // Inputs in [0, 2]; the transformer's pixels span 0..255 as in the data: in [0, 2] (after its
        // / 255) every image is nearly black and its patches nearly equal, so that its attention's
        // gradients are rounding noise. (The MLP, fed 0..255, diverges at this rate: its losses then
        // agree only to about 1e-4.)
        const hi = file === "transformer.ts" ? 255 : 2;
        inputs.set(i.name, i.dtype === "i32" ? { shape, data: Int32Array.from({ length: n }, () => rng.int(i.classes!)) } : { shape, data: Float32Array.from(sample(rng, shape, { lo: 0, hi })) });
      }
      const a = await onGpu.step(inputs, 0.01, step, true);
      const b = await onCpu.step(inputs, 0.01, step, true);
      t.true(Math.abs(a! - b!) <= 1e-4 * Math.max(1, Math.abs(b!)), `step ${step}: loss ${a} on WebGPU, ${b} on the CPU`);
    }
    const normalized = model.params.some((p) => p.trainable === false);
    await sameWeights(t, onGpu, onCpu, normalized ? (name) => (name.startsWith("opt/") ? 1e-2 : 1e-3) : STEP_TOLERANCE);
  });
}
