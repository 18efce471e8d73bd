// One WebGPU device per test file (Dawn has crashed with several at once),
// and the comparison of a graph's WebGPU result with the CPU interpreter's.

import type { ExecutionContext } from "ava";
import { lowerGpu } from "../../compiler/codegen/wgsl/program.js";
import type { Graph } from "../../compiler/ir/node.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { openDevice, type GpuContext } from "../../runtime/webgpu/device.js";
import { GpuExecutable } from "../../runtime/webgpu/executable.js";
import type { KernelFamily, WorkgroupTile } from "../../runtime/program/gpu.js";
import { chooseKernel, type ChosenKernel } from "../../runtime/webgpu/kernel-family.js";
import { relativeError } from "./gradcheck.js";
import { lowerAndRun } from "./run.js";

let shared: Promise<GpuContext | undefined> | undefined;

/** The test file's device; a missing adapter fails the test (never skips it). */
export async function gpu(t: ExecutionContext): Promise<GpuContext> {
  shared ??= openDevice();
  const ctx = await shared;
  if (!ctx) {
    t.fail("no WebGPU adapter: run ./scripts/install-webgpu-cpu.sh (as root) on a machine without a GPU");
    throw new Error("no WebGPU adapter");
  }
  return ctx;
}

export async function closeGpu(): Promise<void> {
  (await shared)?.destroy();
  shared = undefined;
}

/**
 * Runs g on WebGPU and on the CPU interpreter (float32, unfused) and checks every output within
 * `tol` (normwise relative). With `family`, the kernels are that family's on the test's device,
 * and under the hardware family every contraction must have run a hardware variant (with
 * `tiles`, of those tiles rather than the cost model's). Returns the kernels that ran, and the
 * largest error.
 */
export async function matchesCpu(
  t: ExecutionContext,
  g: Graph,
  feeds: ReadonlyMap<string, NDArray>,
  params: ReadonlyMap<string, NDArray> = new Map(),
  options: { tol?: number; fusion?: boolean; family?: KernelFamily; tiles?: readonly WorkgroupTile[] } = {},
): Promise<{ kernels: ChosenKernel[]; error: number }> {
  const ctx = await gpu(t);
  const program = lowerGpu(g, { fusion: options.fusion, tiles: options.tiles });
  const kernels = program.kernels.map((k) => chooseKernel(k, options.family ?? "software", ctx.device.limits));
  if (options.family === "hardware") t.true(kernels.every((k) => k.family !== "software"), "every contraction runs a hardware variant");
  const exe = await GpuExecutable.create(ctx, { ...program, kernels: kernels.map((k) => k.code) });
  const onGpu = await exe.run(feeds, params);
  const onCpu = lowerAndRun(g, feeds, params, { precision: "f32", fusion: false });
  const tol = options.tol ?? 1e-4;
  let error = 0;
  for (const [name, want] of onCpu) {
    const got = onGpu.get(name)!;
    t.deepEqual(got.shape, want.shape, `${name}: shape`);
    if (want.data instanceof Int32Array) t.deepEqual([...got.data], [...want.data], `${name}: integer values`);
    else {
      const err = relativeError(got.data, want.data);
      error = Math.max(error, err);
      t.true(err <= tol, `${name}: relative error ${err.toExponential(2)} > ${tol}`);
    }
  }
  return { kernels, error };
}

/**
 * Runs a bare WGSL compute shader `main` on the test file's device over
 * `groups` workgroups: binding 0 holds `input` (read-only u32 words), binding 1
 * `outWords` u32 words that are read back. For testing WGSL helpers alone.
 */
export async function runShader(t: ExecutionContext, code: string, input: Uint32Array, outWords: number, groups: number): Promise<Uint32Array> {
  const { device } = await gpu(t);
  const buffer = (words: number, usage: number) => device.createBuffer({ size: Math.max(4, words * 4), usage });
  const src = buffer(input.length, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(src, 0, input);
  const dst = buffer(outWords, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const read = buffer(outWords, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const module = device.createShaderModule({ code });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [src, dst].map((b, binding) => ({ binding, resource: { buffer: b } })) });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(groups);
  pass.end();
  enc.copyBufferToBuffer(dst, 0, read, 0, outWords * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Uint32Array(read.getMappedRange().slice(0, outWords * 4));
  read.unmap();
  for (const b of [src, dst, read]) b.destroy();
  return out;
}
