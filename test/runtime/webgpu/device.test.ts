// WebGPU is really there: on a machine without a GPU the project's setup script
// installs Mesa's software Vulkan driver, and these tests fail (never skip)
// when no adapter is found, so that CI cannot pass without running kernels.

import test from "ava";
import { openDevice } from "../../../runtime/webgpu/device.js";

test("a WebGPU adapter is found (run scripts/install-webgpu-cpu.sh on a machine without a GPU)", async (t) => {
  const ctx = await openDevice();
  t.truthy(ctx, "no WebGPU adapter: run ./scripts/install-webgpu-cpu.sh (as root) first");
  t.log(ctx?.description);
  ctx?.destroy();
});

test("a compute shader runs and its result reads back", async (t) => {
  const ctx = await openDevice();
  if (!ctx) return t.fail("no WebGPU adapter");
  const { device } = ctx;
  const n = 1000;
  const input = Float32Array.from({ length: n }, (_, i) => i - 500);
  const data = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  device.queue.writeBuffer(data, 0, input);
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&x)) { x[id.x] = max(x[id.x], 0.0) * 2.0 + 1.0; }
}`,
  });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: data } }] });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  enc.copyBufferToBuffer(data, 0, read, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  ctx.destroy();
  t.deepEqual([...out], [...input].map((v) => Math.max(v, 0) * 2 + 1));
});
