// Choosing a backend: the CPU (WebAssembly SIMD), the CPU reference
// interpreter in JavaScript (`cpu-js`), WebGPU, or (auto) WebGPU when an
// adapter exists.

import { CpuBackend } from "./cpu/backend.js";
import type { ModelProgram } from "./program/model.js";
import type { Backend } from "./train/backend.js";
import { WebGpuBackend } from "./webgpu/backend.js";
import { openDevice } from "./webgpu/device.js";
import { GpuError } from "./webgpu/executable.js";

export type BackendChoice = "cpu" | "cpu-js" | "webgpu" | "auto";

export async function createBackend(model: ModelProgram, choice: BackendChoice = "auto"): Promise<Backend> {
  if (choice === "cpu") return new CpuBackend(model);
  if (choice === "cpu-js") return new CpuBackend(model, { engine: "js" });
  const ctx = await openDevice();
  if (!ctx) {
    if (choice === "auto") return new CpuBackend(model);
    throw new GpuError("no WebGPU adapter found (on a machine without a GPU, ./scripts/install-webgpu-cpu.sh installs a software one); or use the CPU backend");
  }
  try {
    return await WebGpuBackend.create(ctx, model);
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
