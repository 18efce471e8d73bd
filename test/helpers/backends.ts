// One graph run every way dlc runs graphs: the reference evaluator (float64,
// unfused), the CPU interpreter (float32, fused), and WebGPU fused and
// unfused. Tests hold each to one independent reference (TF.js, a formula).

import type { ExecutionContext } from "ava";
import { lowerGpu } from "../../compiler/codegen/wgsl/program.js";
import type { Graph } from "../../compiler/ir/node.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { GpuExecutable } from "../../runtime/webgpu/executable.js";
import { gpu } from "./gpu.js";
import { lowerAndRun } from "./run.js";

export interface BackendRun {
  readonly what: string;
  readonly outputs: ReadonlyMap<string, NDArray>;
  /** float32 on a GPU sums in another order than on the CPU: its tolerance is this many times the CPU's. */
  readonly slack: number;
}

/** `g` on every backend (callers close the GPU with test.after.always(closeGpu)). */
export async function everyBackend(t: ExecutionContext, g: Graph, feeds: ReadonlyMap<string, NDArray>): Promise<BackendRun[]> {
  const f32 = new Map([...feeds].map(([name, a]) => [name, a.data instanceof Int32Array ? a : { shape: a.shape, data: Float32Array.from(a.data) }]));
  const runs: BackendRun[] = [
    { what: "CPU float64", outputs: lowerAndRun(g, feeds), slack: 1 },
    { what: "CPU float32 fused", outputs: lowerAndRun(g, feeds, new Map(), { precision: "f32", fusion: true }), slack: 1 },
  ];
  const ctx = await gpu(t);
  for (const fusion of [true, false]) {
    const exe = await GpuExecutable.create(ctx, lowerGpu(g, { fusion }));
    const outputs = await exe.run(f32, new Map());
    // Copies: the executable's buffers are reused by the next run.
    runs.push({ what: `WebGPU ${fusion ? "fused" : "unfused"}`, outputs: new Map([...outputs].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }])), slack: 2 });
  }
  return runs;
}
