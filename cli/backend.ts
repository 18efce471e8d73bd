// Choosing the backend a command runs on.

import { CpuBackend } from "../runtime/cpu/backend.js";
import type { ModelProgram } from "../runtime/program/model.js";
import type { Backend } from "../runtime/train/backend.js";
import { UsageError } from "./exit.js";

export const BACKENDS = ["cpu", "webgpu", "auto"] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export async function openBackend(model: ModelProgram, choice: BackendChoice): Promise<Backend> {
  if (choice === "webgpu") throw new UsageError("the WebGPU backend is not available yet: use --backend cpu");
  return new CpuBackend(model);
}
