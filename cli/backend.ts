// The backends a command can run on, and the threads the CPU backend uses by default.

import { availableParallelism } from "node:os";

export { createBackend as openBackend, chooseBackend, type BackendChoice } from "../runtime/backends.js";
export const BACKENDS = ["cpu", "cpu-js", "webgpu", "auto"] as const;
export { KERNEL_CHOICES, type KernelChoice } from "../runtime/webgpu/kernel-family.js";

/** The machine's cores: what --threads defaults to. */
export function machineThreads(): number {
  return availableParallelism();
}
