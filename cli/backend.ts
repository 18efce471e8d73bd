// Choosing the backend a command runs on: the CPU interpreter, WebGPU, or
// (auto) WebGPU when an adapter exists.

import { CpuBackend } from "../runtime/cpu/backend.js";
import type { ModelProgram } from "../runtime/program/model.js";
import type { Backend } from "../runtime/train/backend.js";
import { WebGpuBackend } from "../runtime/webgpu/backend.js";
import { openDevice } from "../runtime/webgpu/device.js";
import { RuntimeError } from "./exit.js";

export const BACKENDS = ["cpu", "webgpu", "auto"] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export async function openBackend(model: ModelProgram, choice: BackendChoice): Promise<Backend> {
  if (choice === "cpu") return new CpuBackend(model);
  const ctx = await openDevice();
  if (!ctx) {
    if (choice === "auto") return new CpuBackend(model);
    throw new RuntimeError("no WebGPU adapter found (on a machine without a GPU, ./scripts/install-webgpu-cpu.sh installs a software one); or use --backend cpu");
  }
  try {
    return await WebGpuBackend.create(ctx, model);
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
