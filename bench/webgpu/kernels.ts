// Timings of the WebGPU kernels that training spends its time in, on whatever
// adapter Dawn opens (on a machine without a GPU: Mesa's lavapipe, software
// Vulkan over llvmpipe): matmul at 1024 in all four layouts and at the shapes
// of models/mlp.ts (batch 128, forward and backward), the convolutions and
// pools of models/cnn.ts at batch 64, then whole training steps of
// models/mlp.ts (batch 128) and models/cnn.ts (batch 64).
//
//   node --import tsx bench/webgpu/kernels.ts [--quick] [--only WORD] [--root DIR] [--no-steps] [--profile] [--wgsl WORD]
//
// Each kernel case is a small graph lowered by lowerGpu and run through
// GpuExecutable; a sample is one submit of `reps` dispatches of the program,
// timed to queue.onSubmittedWorkDone, and the median per dispatch is printed
// with its rate and the process's CPU time (llvmpipe's threads included: on a
// shared machine steadier than wall time; twice the wall time when both cores
// work). A training step is timed over a loop of steps (the loss read only at
// the end), waiting for the queue every 4 steps.
// --root DIR times the compiler of another checkout (a copy of an older
// commit), for before/after tables; --profile also times each kernel of the
// training steps on its own (on zeros: the values are not meaningful);
// --wgsl WORD prints the WGSL of the cases whose name contains WORD.

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { Node } from "../../compiler/ir/node.js";
import type { GpuProgram } from "../../runtime/program/gpu.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { flag, LAYOUTS, option } from "../args.js";

type ProgramModule = typeof import("../../compiler/codegen/wgsl/program.js");
type BuildModule = typeof import("../../compiler/ops/build.js");
type CompositeModule = typeof import("../../compiler/ops/composite.js");
type MakeModule = typeof import("../../compiler/ops/make.js");
type ModelModule = typeof import("../../compiler/build.js");
type DeviceModule = typeof import("../../runtime/webgpu/device.js");
type ExecutableModule = typeof import("../../runtime/webgpu/executable.js");
type BackendModule = typeof import("../../runtime/webgpu/backend.js");
type InitModule = typeof import("../../runtime/init/init.js");

const quick = flag("--quick");
const only = option("--only");
const root = option("--root");
const wgslOf = option("--wgsl");
const profile = flag("--profile");
const here = new URL("../../", import.meta.url);

async function load<T>(relative: string): Promise<T> {
  const url = root ? pathToFileURL(resolve(root, relative)).href : new URL(relative, here).href;
  return (await import(url)) as T;
}

const { lowerGpu } = await load<ProgramModule>("compiler/codegen/wgsl/program.js");
const { matmul } = await load<BuildModule>("compiler/ops/build.js");
const ops = await load<CompositeModule>("compiler/ops/composite.js");
const { make } = await load<MakeModule>("compiler/ops/make.js");
const { buildModel } = await load<ModelModule>("compiler/build.js");
const { openDevice } = await load<DeviceModule>("runtime/webgpu/device.js");
const { GpuExecutable } = await load<ExecutableModule>("runtime/webgpu/executable.js");
const { WebGpuBackend } = await load<BackendModule>("runtime/webgpu/backend.js");
const { initialize } = await load<InitModule>("runtime/init/init.js");

const ctx = await openDevice();
if (!ctx) {
  console.error("no WebGPU adapter: run ./scripts/install-webgpu-cpu.sh (as root) on a machine without a GPU");
  process.exit(1);
}
const { device } = ctx;
console.log(`adapter: ${ctx.description}${root ? `, compiler from ${root}` : ""}`);

let seed = 1;
function random(shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = seed / 2 ** 31 - 1;
  }
  return data;
}

const selected = (name: string): boolean => only === undefined || name.includes(only);
const input = (name: string, shape: readonly number[]): Node => make("input", [], { name, shape, dtype: "f32" });
const graph = (name: string, inputs: Node[], outputs: Record<string, Node>) => ({ name, inputs: inputs as never, outputs: Object.entries(outputs).map(([n, node]) => ({ name: n, node })) });

interface Timing {
  /** Median wall-clock milliseconds. */
  readonly ms: number;
  /** Median CPU milliseconds of this process (llvmpipe's threads included): steadier than wall time when other processes share the CPU. */
  readonly cpu: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Median times of `run` (which returns after the GPU finished), after a warmup; fewer samples for slow cases. */
async function time(run: () => Promise<void>): Promise<Timing> {
  const budget = quick ? 800 : 3000;
  const t0 = performance.now();
  await run();
  const first = performance.now() - t0;
  const samples: number[] = [];
  const cpus: number[] = [];
  const minSamples = first > budget / 3 ? 3 : quick ? 3 : 5;
  const start = performance.now();
  while (samples.length < minSamples || (samples.length < 41 && performance.now() - start < budget)) {
    const c = process.cpuUsage();
    const s = performance.now();
    await run();
    samples.push(performance.now() - s);
    const used = process.cpuUsage(c);
    cpus.push((used.user + used.system) / 1000);
  }
  return { ms: median(samples), cpu: median(cpus) };
}

/** Median times of one run of the whole program (all its kernels) on random inputs. */
async function timeProgram(program: GpuProgram, shapes: ReadonlyMap<string, readonly number[]>): Promise<Timing> {
  const exe = await GpuExecutable.create(ctx!, program);
  const plan = exe.plan({});
  for (const { name, node } of program.graph.inputs) exe.upload(plan, node, random(shapes.get(name)!));
  await exe.prepare(plan);
  // Batch small kernels into one submit so that the submit's own cost does not dominate.
  const once = async () => {
    const encoder = device.createCommandEncoder();
    exe.encode(encoder, plan);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  const t0 = performance.now();
  await once();
  const reps = Math.max(1, Math.min(20, Math.floor(20 / Math.max(0.05, performance.now() - t0))));
  const { ms, cpu } = await time(async () => {
    const encoder = device.createCommandEncoder();
    for (let r = 0; r < reps; r++) exe.encode(encoder, plan);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  });
  return { ms: ms / reps, cpu: cpu / reps };
}

function report(name: string, { ms, cpu }: Timing, flops?: number, kernels?: number): void {
  const rate = flops === undefined ? "".padEnd(16) : `${(flops / ms / 1e6).toFixed(2).padStart(8)} GFLOP/s`;
  const note = kernels !== undefined && kernels !== 1 ? `  (${kernels} kernels)` : "";
  console.log(`${name.padEnd(52)} ${ms.toFixed(3).padStart(10)} ms ${rate}   cpu ${cpu.toFixed(3).padStart(10)} ms${note}`);
}

interface Case {
  readonly name: string;
  readonly flops?: number;
  readonly build: () => { inputs: Node[]; outputs: Record<string, Node> };
}

// ---- matmul -----------------------------------------------------------------

function matmulCase(name: string, m: number, k: number, n: number, transA: boolean, transB: boolean, epilogue = false): Case {
  return {
    name,
    flops: 2 * m * n * k,
    build: (): { inputs: Node[]; outputs: Record<string, Node> } => {
      const a = input("a", transA ? [k, m] : [m, k]);
      const b = input("b", transB ? [n, k] : [k, n]);
      const y = matmul(a, b, transA, transB);
      if (!epilogue) return { inputs: [a, b], outputs: { y } };
      const bias = input("bias", [n]);
      return { inputs: [a, b, bias], outputs: { h: ops.relu(ops.binaryOp("add", y, bias)) } };
    },
  };
}


const cases: Case[] = [
  ...LAYOUTS.map(([ta, tb]) => matmulCase(`matmul 1024 ${ta ? "T" : "N"}${tb ? "T" : "N"}`, 1024, 1024, 1024, ta, tb)),
  // models/mlp.ts at batch 128: forward (bias and relu fused), then dW = xᵀ g and dx = g Wᵀ of each layer.
  matmulCase("mlp fc0 forward  [128,784]x[784,256] +b relu", 128, 784, 256, false, false, true),
  matmulCase("mlp fc1 forward  [128,256]x[256,128] +b relu", 128, 256, 128, false, false, true),
  matmulCase("mlp out forward  [128,128]x[128,10] +b", 128, 128, 10, false, false, true),
  matmulCase("mlp fc0 dW  [128,784]ᵀx[128,256]", 784, 128, 256, true, false),
  matmulCase("mlp fc1 dW  [128,256]ᵀx[128,128]", 256, 128, 128, true, false),
  matmulCase("mlp out dW  [128,128]ᵀx[128,10]", 128, 128, 10, true, false),
  matmulCase("mlp fc1 dx  [128,128]x[256,128]ᵀ", 128, 128, 256, false, true),
  matmulCase("mlp out dx  [128,10]x[128,10]ᵀ", 128, 10, 128, false, true),
  matmulCase("mlp fc0 dx  [128,256]x[784,256]ᵀ", 128, 256, 784, false, true),
  matmulCase("cnn out forward  [64,1568]x[1568,10] +b", 64, 1568, 10, false, false, true),
  matmulCase("cnn out dW  [64,1568]ᵀx[64,10]", 1568, 64, 10, true, false),
  matmulCase("cnn out dx  [64,10]x[1568,10]ᵀ", 64, 10, 1568, false, true),
];

// ---- convolutions and pools of models/cnn.ts at batch 64 ---------------------

function convCases(label: string, x: number[], kshape: number[]): Case[] {
  const [n, h, w, c] = x as [number, number, number, number];
  const [kh, kw, , o] = kshape as [number, number, number, number];
  const flops = 2 * n * h * w * o * kh * kw * c; // stride 1, "same": the output is as large as the input
  const conv = (xi: Node, ki: Node) => ops.conv2d(xi, ki, 1, "same") as Node & { op: "conv2d" };
  return [
    {
      name: `${label} conv2d +b relu`,
      flops,
      build: () => {
        const xi = input("x", x);
        const ki = input("k", kshape);
        const bias = input("bias", [o]);
        return { inputs: [xi, ki, bias], outputs: { y: ops.relu(ops.binaryOp("add", conv(xi, ki), bias)) } };
      },
    },
    {
      name: `${label} conv2dInputGrad`,
      flops,
      build: () => {
        const dy = input("dy", [n, h, w, o]);
        const ki = input("k", kshape);
        const attrs = conv(input("x", x), ki).attrs;
        return { inputs: [dy, ki], outputs: { dx: make("conv2dInputGrad", [dy, ki], { ...attrs, inputSize: [h, w] }) } };
      },
    },
    {
      name: `${label} conv2dFilterGrad`,
      flops,
      build: () => {
        const xi = input("x", x);
        const dy = input("dy", [n, h, w, o]);
        const attrs = conv(xi, input("k", kshape)).attrs;
        return { inputs: [xi, dy], outputs: { dk: make("conv2dFilterGrad", [xi, dy], { ...attrs, kernelSize: [kh, kw] }) } };
      },
    },
  ];
}

function poolCases(label: string, x: number[]): Case[] {
  return [
    {
      name: `${label} maxPool2d 2x2`,
      build: () => {
        const xi = input("x", x);
        return { inputs: [xi], outputs: { y: ops.pool("maxPool2d", xi, 2, 2, "valid") } };
      },
    },
    {
      name: `${label} maxPool2dGrad 2x2`,
      build: () => {
        const xi = input("x", x);
        const y = ops.pool("maxPool2d", xi, 2, 2, "valid") as Node & { op: "maxPool2d" };
        const dy = input("dy", y.shape as number[]);
        return { inputs: [xi, dy], outputs: { dx: make("maxPool2dGrad", [xi, dy], y.attrs) } };
      },
    },
  ];
}

cases.push(...convCases("cnn conv1 x[64,28,28,1] k[3,3,1,16]", [64, 28, 28, 1], [3, 3, 1, 16]));
cases.push(...convCases("cnn conv2 x[64,14,14,16] k[3,3,16,32]", [64, 14, 14, 16], [3, 3, 16, 32]));
cases.push(...poolCases("cnn pool1 x[64,28,28,16]", [64, 28, 28, 16]));
cases.push(...poolCases("cnn pool2 x[64,14,14,32]", [64, 14, 14, 32]));

for (const c of cases) {
  if (!selected(c.name)) continue;
  const { inputs, outputs } = c.build();
  const program = lowerGpu(graph(c.name, inputs, outputs) as never);
  if (wgslOf !== undefined && c.name.includes(wgslOf)) for (const k of program.kernels) console.log(k.wgsl);
  const shapes = new Map(inputs.map((i) => [(i.attrs as { name: string }).name, i.shape as number[]]));
  report(c.name, await timeProgram(program, shapes), c.flops, program.kernels.length);
}

// ---- whole training steps -----------------------------------------------------

/** Steps per second of a model's training step at a batch size, and optionally each kernel's share. */
async function steps(file: string, batch: number): Promise<void> {
  const model = buildModel(new URL(file, here).pathname, { training: true, webgpu: true });
  const backend = await WebGpuBackend.create({ ...ctx!, destroy: () => {} }, model);
  await backend.load(new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, 1, p.name)])));
  const loss = model.entries.find((e) => e.name === "loss")!;
  const inputs = new Map<string, NDArray>();
  for (const i of loss.inputs) {
    const shape = i.shape.map((d) => (typeof d === "number" ? d : batch));
    const n = shape.reduce((a, b) => a * b, 1);
    if (i.dtype === "i32") inputs.set(i.name, { shape, data: Int32Array.from({ length: n }, (_, j) => j % (i.classes ?? 2)) });
    else inputs.set(i.name, { shape, data: random(shape).map((v) => (v + 1) * 127) });
  }
  let t = 1;
  for (let w = 0; w < 3; w++) await backend.step(inputs, 1e-3, t++, false);
  await device.queue.onSubmittedWorkDone();
  const budget = quick ? 2000 : 6000;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let count = 0;
  while (count < 5 || performance.now() - start < budget) {
    await backend.step(inputs, 1e-3, t++, false);
    count++;
    // Keep the queue short: Dawn would otherwise buffer every step before running any.
    if (count % 4 === 0) await device.queue.onSubmittedWorkDone();
  }
  await device.queue.onSubmittedWorkDone();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu0);
  const cpuMs = (used.user + used.system) / 1000 / count;
  const last = await backend.step(inputs, 1e-3, t++, true);
  const program = model.train!.step.gpu!;
  console.log(`${`${file} training step, batch ${batch}`.padEnd(52)} ${(count / seconds).toFixed(2).padStart(10)} steps/s  (${((seconds / count) * 1000).toFixed(1)} ms/step, cpu ${cpuMs.toFixed(1)} ms/step, ${program.kernels.length} kernels, loss ${last?.toFixed(4)})`);
  if (profile) await profileKernels(program, batch);
}

/** Each kernel of a program on its own, slowest first. */
async function profileKernels(program: GpuProgram, batch: number): Promise<void> {
  const rows: [string, number][] = [];
  for (const k of program.kernels) {
    const one: GpuProgram = { ...program, kernels: [k] };
    const exe = await GpuExecutable.create(ctx!, one);
    const plan = exe.plan(Object.fromEntries(program.symbols.map((s) => [s, batch])));
    await exe.prepare(plan);
    const { ms } = await time(async () => {
      const encoder = device.createCommandEncoder();
      for (let r = 0; r < 5; r++) exe.encode(encoder, plan);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    });
    rows.push([k.name, ms / 5]);
  }
  const total = rows.reduce((a, [, ms]) => a + ms, 0);
  for (const [name, ms] of rows.sort((a, b) => b[1] - a[1])) console.log(`    ${name.padEnd(48)} ${ms.toFixed(3).padStart(10)} ms ${((ms / total) * 100).toFixed(1).padStart(5)}%`);
  console.log(`    ${"sum of kernels".padEnd(48)} ${total.toFixed(3).padStart(10)} ms`);
}

if (!flag("--no-steps")) {
  if (selected("models/mlp.ts")) await steps("models/mlp.ts", 128);
  if (selected("models/cnn.ts")) await steps("models/cnn.ts", 64);
}

ctx.destroy();
process.exit(0);
