// A reference WGSL matmul for `npm run bench -- --gpu`: the textbook
// workgroup-memory tiling that GPU vendors' guides teach, with nothing of
// dlc's code, so that a run on any adapter says what a plain good kernel
// reaches there and dlc's matmul can be held against it (issue 17: at least
// half of the adapter's best WGSL matmul in the same run).
//
// C[M, N] = A[M, K] · B[K, N], row-major f32, M, N multiples of 64 and K of
// 16 (the bench runs 1024^3). A workgroup of 16 x 16 invocations computes a
// 64 x 64 tile of C, 4 x 4 elements per invocation in registers; each step
// stages a 64 x 16 slice of A and a 16 x 64 slice of B in workgroup memory
// between two barriers, every invocation loading 4 elements of each.

import type { GpuContext } from "../../runtime/webgpu/device.js";

const TILE = 64;
const DEPTH = 16;

const wgsl = (m: number, n: number, k: number): string => `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
var<workgroup> as_: array<array<f32, ${DEPTH}>, ${TILE}>;
var<workgroup> bs: array<array<f32, ${TILE}>, ${DEPTH}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row0 = wg.y * ${TILE}u;
  let col0 = wg.x * ${TILE}u;
  let flat = l.y * 16u + l.x;
  var acc: array<array<f32, 4>, 4>;
  for (var p = 0u; p < ${k}u; p += ${DEPTH}u) {
    // 256 invocations load 64 x 16 of A and 16 x 64 of B, 4 elements each.
    for (var e = 0u; e < 4u; e++) {
      let i = flat * 4u + e;
      as_[i / ${DEPTH}u][i % ${DEPTH}u] = a[(row0 + i / ${DEPTH}u) * ${k}u + p + i % ${DEPTH}u];
      bs[i / ${TILE}u][i % ${TILE}u] = b[(p + i / ${TILE}u) * ${n}u + col0 + i % ${TILE}u];
    }
    workgroupBarrier();
    for (var q = 0u; q < ${DEPTH}u; q++) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) {
        av[r] = as_[l.y * 4u + r][q];
        bv[r] = bs[q][l.x * 4u + r];
      }
      for (var r = 0u; r < 4u; r++) {
        for (var s = 0u; s < 4u; s++) {
          acc[r][s] = fma(av[r], bv[s], acc[r][s]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    for (var s = 0u; s < 4u; s++) {
      c[(row0 + l.y * 4u + r) * ${n}u + col0 + l.x * 4u + s] = acc[r][s];
    }
  }
}
`;

export interface ReferenceMatmul {
  /** Dispatches the product and waits for the queue, as dlc's micro-benchmarks do. */
  run(): Promise<void>;
  /** C, read back (for the check against the CPU). */
  read(): Promise<Float32Array>;
  dispose(): void;
}

export async function referenceMatmul(ctx: GpuContext, a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<ReferenceMatmul> {
  if (m % TILE || n % TILE || k % DEPTH) throw new Error(`the reference matmul takes M, N multiples of ${TILE} and K of ${DEPTH}: ${m}x${k}x${n}`);
  const { device } = ctx;
  const buffer = (data: Float32Array | number, usage: number): GPUBuffer => {
    const size = typeof data === "number" ? data : data.byteLength;
    const buf = device.createBuffer({ size, usage });
    if (typeof data !== "number") device.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const [ba, bb, bc] = [buffer(a, storage), buffer(b, storage), buffer(m * n * 4, storage)];
  const module = device.createShaderModule({ code: wgsl(m, n, k) });
  const pipeline = await device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "main" } });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [ba, bb, bc].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const dispatch = (encoder: GPUCommandEncoder): void => {
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(n / TILE, m / TILE);
    pass.end();
  };
  return {
    async run() {
      const encoder = device.createCommandEncoder();
      dispatch(encoder);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    async read() {
      const staging = device.createBuffer({ size: m * n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = device.createCommandEncoder();
      dispatch(encoder);
      encoder.copyBufferToBuffer(bc, 0, staging, 0, m * n * 4);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(staging.getMappedRange().slice(0));
      staging.destroy();
      return out;
    },
    dispose() {
      for (const buf of [ba, bb, bc]) buf.destroy();
    },
  };
}
