// Timings of the CPU kernels that training spends its time in: matmul at the
// shapes of models/mlp.ts (batch 128, forward and backward) and at 512/1024
// squares in all four layouts, the convolutions, pools and reductions of
// models/cnn.ts at batch 64. Each case runs a warmup, then takes samples
// until it has enough, and prints the median wall-clock time per call and the
// median CPU time (the two agree on an idle machine; on a busy one the CPU
// time is the steadier measure of the kernel).
//
//   node --import tsx bench/cpu/kernels.ts [--quick] [--f64] [--only WORD] [--baseline DIR]
//
// --quick takes fewer samples; --f64 runs the matmul and conv cases in
// Float64Array (the reference evaluator's precision) as well; --only keeps the
// cases whose name contains WORD. --baseline DIR also times the kernels of
// another checkout (e.g. a `git worktree` of an older commit), alternating
// samples between the two so that both see the same machine load, and prints
// the speedup.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Kernel } from "../../runtime/cpu/kernels/types.js";
import type { FloatArray, NDArray } from "../../runtime/cpu/ndarray.js";
import type { ConvAttrs, Pads, Pair } from "../../runtime/program/ops.js";
import { flag, LAYOUTS, option } from "../args.js";

const quick = flag("--quick");
const only = option("--only");
const baselineRoot = option("--baseline");
const precisions: ("f32" | "f64")[] = flag("--f64") ? ["f32", "f64"] : ["f32"];

// ---- the kernels under test ---------------------------------------------------

interface Kernels {
  readonly matmul: Kernel<"matmul">;
  readonly conv2d: Kernel<"conv2d">;
  readonly conv2dInputGrad: Kernel<"conv2dInputGrad">;
  readonly conv2dFilterGrad: Kernel<"conv2dFilterGrad">;
  readonly maxPool2d: Kernel<"maxPool2d">;
  readonly maxPool2dGrad: Kernel<"maxPool2dGrad">;
  readonly avgPool2d: Kernel<"avgPool2d">;
  readonly avgPool2dGrad: Kernel<"avgPool2dGrad">;
  readonly sum: Kernel<"sum">;
  readonly max: Kernel<"max">;
  readonly argmax: Kernel<"argmax">;
}

/** The kernels of the checkout at `root` (this one when undefined). */
async function load(root: string | undefined): Promise<Kernels> {
  const url = (file: string): string =>
    root ? pathToFileURL(resolve(root, "runtime/cpu/kernels", file)).href : new URL(`../../runtime/cpu/kernels/${file}`, import.meta.url).href;
  const { matmul } = (await import(url("matmul.js"))) as typeof import("../../runtime/cpu/kernels/matmul.js");
  const conv = (await import(url("conv.js"))) as typeof import("../../runtime/cpu/kernels/conv.js");
  const pool = (await import(url("pool.js"))) as typeof import("../../runtime/cpu/kernels/pool.js");
  const { REDUCE_KERNELS } = (await import(url("reduce.js"))) as typeof import("../../runtime/cpu/kernels/reduce.js");
  return {
    matmul, ...conv, ...pool,
    sum: REDUCE_KERNELS.sum as Kernel<"sum">,
    max: REDUCE_KERNELS.max as Kernel<"max">,
    argmax: REDUCE_KERNELS.argmax as Kernel<"argmax">,
  };
}

const current = await load(undefined);
const baseline = baselineRoot === undefined ? undefined : await load(baselineRoot);

// ---- data -------------------------------------------------------------------

let seed = 1;
function random(shape: readonly number[], precision: "f32" | "f64"): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const data: FloatArray = precision === "f64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    data[i] = seed / 2 ** 31 - 1;
  }
  return { shape, data };
}

// Outputs are allocated outside the timed calls: the interpreter allocates too, but that is not the kernel's cost.
function zeros(shape: readonly number[], precision: "f32" | "f64"): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: precision === "f64" ? new Float64Array(n) : new Float32Array(n) };
}

// ---- timing -----------------------------------------------------------------

interface Timing {
  /** Median wall-clock milliseconds per call. */
  readonly wall: number;
  /** Median CPU milliseconds per call (process.cpuUsage). */
  readonly cpu: number;
}

/**
 * Times each function after a warmup, alternating samples between them; a
 * sample repeats its function enough to last about a millisecond.
 */
function time(fs: readonly (() => void)[]): Timing[] {
  const budget = (quick ? 300 : 1500) * fs.length;
  const minSamples = quick ? 3 : 5;
  const maxSamples = quick ? 9 : 41;
  const reps = fs.map((f) => {
    const start = performance.now();
    let calls = 0;
    do {
      f();
      calls++;
    } while (performance.now() - start < budget / fs.length / 5);
    return Math.max(1, Math.round(calls / (performance.now() - start)));
  });
  const wall = fs.map((): number[] => []);
  const cpu = fs.map((): number[] => []);
  const start = performance.now();
  while (wall[0]!.length < minSamples || (wall[0]!.length < maxSamples && performance.now() - start < budget)) {
    fs.forEach((f, i) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let r = 0; r < reps[i]!; r++) f();
      wall[i]!.push((performance.now() - t0) / reps[i]!);
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1000 / reps[i]!);
    });
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  return fs.map((_, i) => ({ wall: median(wall[i]!), cpu: median(cpu[i]!) }));
}

const selected = (name: string): boolean => only === undefined || name.includes(only);

/** Times one case with the current kernels (and the baseline's) and prints a line; GFLOP/s when `flops` is given. */
function measure(name: string, run: (k: Kernels) => void, flops?: number): void {
  if (!selected(name)) return;
  const ms = (t: number): string => `${t.toFixed(3).padStart(9)} ms`;
  const rate = (t: number): string => (flops === undefined ? "" : ` ${(flops / t / 1e6).toFixed(2).padStart(6)} GFLOP/s`);
  if (baseline === undefined) {
    const [t] = time([() => run(current)]);
    console.log(`${name.padEnd(56)} ${ms(t!.wall)}${rate(t!.wall)}   cpu ${ms(t!.cpu)}${rate(t!.cpu)}`);
  } else {
    const [t, b] = time([() => run(current), () => run(baseline)]);
    console.log(`${name.padEnd(56)} ${ms(t!.wall)}${rate(t!.wall)}   baseline ${ms(b!.wall)}${rate(b!.wall)}   ${(b!.wall / t!.wall).toFixed(1).padStart(5)}x`);
  }
}

// ---- matmul -----------------------------------------------------------------


const matmulCases = [
  // models/mlp.ts at batch 128: forward, then dW = xᵀ g and dx = g Wᵀ of each layer.
  { name: "mlp fc0 forward  [128,784]x[784,256]", m: 128, k: 784, n: 256, transA: false, transB: false },
  { name: "mlp fc1 forward  [128,256]x[256,128]", m: 128, k: 256, n: 128, transA: false, transB: false },
  { name: "mlp out forward  [128,128]x[128,10]", m: 128, k: 128, n: 10, transA: false, transB: false },
  { name: "mlp fc0 dW  [128,784]ᵀx[128,256]", m: 784, k: 128, n: 256, transA: true, transB: false },
  { name: "mlp fc1 dW  [128,256]ᵀx[128,128]", m: 256, k: 128, n: 128, transA: true, transB: false },
  { name: "mlp fc1 dx  [128,128]x[256,128]ᵀ", m: 128, k: 128, n: 256, transA: false, transB: true },
  { name: "mlp out dx  [128,10]x[128,10]ᵀ", m: 128, k: 10, n: 128, transA: false, transB: true },
  { name: "mlp fc0 dx  [128,256]x[784,256]ᵀ", m: 128, k: 256, n: 784, transA: false, transB: true },
  { name: "cnn out forward  [64,1568]x[1568,10]", m: 64, k: 1568, n: 10, transA: false, transB: false },
  ...[512, 1024].flatMap((s) =>
    LAYOUTS.map(([transA, transB]) => ({ name: `square ${s} ${transA ? "T" : "N"}${transB ? "T" : "N"}`, m: s, k: s, n: s, transA, transB })),
  ),
];

console.log(`# matmul (GFLOP/s = 2·M·N·K / time)${baselineRoot ? `; baseline: the kernels of ${baselineRoot}` : ""}`);
for (const precision of precisions) {
  for (const c of matmulCases) {
    const a = random(c.transA ? [c.k, c.m] : [c.m, c.k], precision);
    const b = random(c.transB ? [c.n, c.k] : [c.k, c.n], precision);
    const out = zeros([c.m, c.n], precision);
    measure(`matmul ${precision} ${c.name}`, (k) => k.matmul(out, [a, b], { transA: c.transA, transB: c.transB }, {}), 2 * c.m * c.n * c.k);
  }
}

// ---- convolution ------------------------------------------------------------

const convCases = [
  { name: "cnn conv1 [64,28,28,1] * [3,3,1,16]", x: [64, 28, 28, 1], k: [3, 3, 1, 16] },
  { name: "cnn conv2 [64,14,14,16] * [3,3,16,32]", x: [64, 14, 14, 16], k: [3, 3, 16, 32] },
] as const;

console.log("# conv2d (same padding, stride 1)");
const stride: Pair = [1, 1];
const pad: Pads = [1, 1, 1, 1];
const geometry: ConvAttrs = { stride, pad, dilation: [1, 1], groups: 1 };
for (const precision of precisions) {
  for (const c of convCases) {
    const [n, h, w, ci] = c.x;
    const [kh, kw, , o] = c.k;
    const yShape = [n, h, w, o];
    const flops = 2 * n * h * w * kh * kw * ci * o;
    const x = random(c.x, precision);
    const k = random(c.k, precision);
    const dy = random(yShape, precision);
    const y = zeros(yShape, precision);
    const dx = zeros(c.x, precision);
    const dk = zeros(c.k, precision);
    measure(`conv ${precision} ${c.name} forward`, (K) => K.conv2d(y, [x, k], geometry, {}), flops);
    measure(`conv ${precision} ${c.name} input grad`, (K) => K.conv2dInputGrad(dx, [dy, k], { ...geometry, inputSize: [h, w] }, {}), flops);
    measure(`conv ${precision} ${c.name} filter grad`, (K) => K.conv2dFilterGrad(dk, [x, dy], { ...geometry, kernelSize: [kh, kw] }, {}), flops);
  }
}

// ---- pooling ----------------------------------------------------------------

console.log("# pooling (2x2, stride 2)");
for (const shape of [[64, 28, 28, 16], [64, 14, 14, 32]] as const) {
  const window = { size: [2, 2] as Pair, stride: [2, 2] as Pair, pad: [0, 0, 0, 0] as Pads };
  const yShape = [shape[0], shape[1] / 2, shape[2] / 2, shape[3]];
  const x = random(shape, "f32");
  const dy = random(yShape, "f32");
  const y = zeros(yShape, "f32");
  const dx = zeros(shape, "f32");
  const at = `[${shape.join(",")}]`;
  measure(`pool f32 maxPool2d ${at}`, (k) => k.maxPool2d(y, [x], window, {}));
  measure(`pool f32 maxPool2dGrad ${at}`, (k) => k.maxPool2dGrad(dx, [x, dy], window, {}));
  measure(`pool f32 avgPool2d ${at}`, (k) => k.avgPool2d(y, [x], window, {}));
  measure(`pool f32 avgPool2dGrad ${at}`, (k) => k.avgPool2dGrad(dx, [dy], { ...window, inputSize: [shape[1], shape[2]] }, {}));
}

// ---- reductions -------------------------------------------------------------

console.log("# reductions");
const reduceCases: [string, readonly number[], "sum" | "max" | "argmax", readonly number[]][] = [
  ["bias grad: sum axis 0 of [128,256]", [128, 256], "sum", [0]],
  ["softmax: sum axis 1 of [128,10]", [128, 10], "sum", [1]],
  ["softmax: max axis 1 of [128,10]", [128, 10], "max", [1]],
  ["predict: argmax axis 1 of [128,10]", [128, 10], "argmax", [1]],
  ["conv bias grad: sum axes 0,1,2 of [64,28,28,16]", [64, 28, 28, 16], "sum", [0, 1, 2]],
  ["sum all of [128,784]", [128, 784], "sum", [0, 1]],
  ["sum axis 1 of [128,784]", [128, 784], "sum", [1]],
];
for (const [what, shape, op, axes] of reduceCases) {
  const x = random(shape, "f32");
  const outShape = shape.filter((_, i) => !axes.includes(i));
  if (op === "argmax") {
    const out: NDArray = { shape: outShape, data: new Int32Array(outShape.reduce((a, b) => a * b, 1)) };
    measure(`reduce f32 ${what}`, (k) => k.argmax(out, [x], { axis: axes[0]! }, {}));
  } else {
    const out = zeros(outShape, "f32");
    measure(`reduce f32 ${what}`, (k) => k[op](out, [x], { axes }, {}));
  }
}
