// The backends a command can run on.

export { createBackend as openBackend, chooseBackend, type BackendChoice } from "../runtime/backends.js";
export const BACKENDS = ["cpu", "cpu-js", "webgpu", "auto"] as const;
