// A lost device is a clear error on the next call, never a hang.

import test from "ava";
import { join } from "node:path";
import { buildModel } from "../../../compiler/build.js";
import { WebGpuBackend } from "../../../runtime/webgpu/backend.js";
import { GpuError } from "../../../runtime/webgpu/executable.js";
import { gpu } from "../../helpers/gpu.js";
import { ROOT } from "../../helpers/paths.js";

test("training on a device that was lost throws a GpuError that says so", async (t) => {
  const model = buildModel(join(ROOT, "models/iris.ts"), { training: true, webgpu: true });
  const ctx = await gpu(t);
  const backend = await WebGpuBackend.create(ctx, model);
  ctx.device.destroy(); // what a driver reset looks like to the program
  await new Promise((r) => setTimeout(r, 50));
  const inputs = new Map([
    ["x", { shape: [2, 4], data: new Float32Array(8) }],
    ["species", { shape: [2], data: new Int32Array(2) }],
  ]);
  const error = await t.throwsAsync(() => backend.step(inputs, 0.1, 1, true), { instanceOf: GpuError });
  t.regex(error!.message, /the GPU device was lost/);
});
