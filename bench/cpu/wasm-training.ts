// The CPU backend on WebAssembly (the default: kernels generated per plan,
// products on the SIMD GEMM, one thread) against the JavaScript reference
// interpreter (`cpu-js`), side by side in one process:
// training steps per second of models/mlp.ts (batch 128) and models/cnn.ts
// (batch 64) on random pixels (the speed does not depend on the data), and
// GFLOP/s of a 1024^3 matmul through the f32 executable (copies into and out
// of WebAssembly memory included). Rounds alternate between the two so both
// see the same machine load; each figure is the median over rounds. Also the
// time to emit, compile and instantiate the GEMM module synchronously.
//
//   node --import tsx bench/cpu/wasm-training.ts [--quick] [--rounds N]

import { join } from "node:path";
import { lowerCpu } from "../../compiler/codegen/cpu.js";
import { buildModel } from "../../compiler/build.js";
import type { Graph } from "../../compiler/ir/node.js";
import { make } from "../../compiler/ops/make.js";
import { CpuBackend } from "../../runtime/cpu/backend.js";
import { CpuExecutable } from "../../runtime/cpu/executable.js";
import type { NDArray } from "../../runtime/cpu/ndarray.js";
import { createProducts, type GemmChoice } from "../../runtime/cpu/wasm/engine.js";
import { initialize } from "../../runtime/init/init.js";
import { Random } from "../../runtime/random.js";
import { flag, option } from "../args.js";

const ROOT = join(import.meta.dirname, "..", "..");
const quick = flag("--quick");
const rounds = Number(option("--rounds") ?? (quick ? 3 : 7));
const CHOICES: readonly GemmChoice[] = ["js", "wasm"];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Runs each contender's `round` in turn, `rounds` times after one warmup round, and returns the median seconds per round. */
async function alternate(round: Record<GemmChoice, () => void | Promise<void>>): Promise<Record<GemmChoice, number>> {
  const times: Record<GemmChoice, number[]> = { js: [], wasm: [] };
  for (let r = 0; r <= rounds; r++) {
    for (const c of CHOICES) {
      const t0 = performance.now();
      await round[c]();
      if (r > 0) times[c].push((performance.now() - t0) / 1000);
    }
  }
  return { js: median(times.js), wasm: median(times.wasm) };
}

function moduleCompileTime(): number {
  const t0 = performance.now();
  const products = createProducts();
  const ms = performance.now() - t0;
  if (products.kind !== "wasm") throw new Error(`no WebAssembly GEMM here: ${products.reason}`);
  return ms;
}

async function training(name: "mlp" | "cnn", batch: number, steps: number): Promise<Record<GemmChoice, number>> {
  const model = buildModel(join(ROOT, "models", `${name}.ts`), { training: true, webgpu: false });
  const values = new Map(model.params.map((p) => [p.name, initialize(p.init, p.shape, 0, p.name)]));
  const rng = new Random(1);
  const inputs = new Map<string, NDArray>([
    ["pixels", { shape: [batch, 784], data: Float32Array.from({ length: batch * 784 }, () => 255 * rng.uniform()) }],
    ["label", { shape: [batch], data: Int32Array.from({ length: batch }, () => rng.int(10)) }],
  ]);
  const backends = { js: new CpuBackend(model, { engine: "js" }), wasm: new CpuBackend(model, { engine: "wasm" }) };
  const t = { js: 0, wasm: 0 };
  for (const c of CHOICES) await backends[c].load(values);
  const round = (c: GemmChoice) => async () => {
    for (let s = 0; s < steps; s++) await backends[c].step(inputs, 1e-3, ++t[c], s === steps - 1);
  };
  const seconds = await alternate({ js: round("js"), wasm: round("wasm") });
  return { js: steps / seconds.js, wasm: steps / seconds.wasm };
}

async function matmul(size: number): Promise<Record<GemmChoice, number>> {
  const a = make("input", [], { name: "a", shape: [size, size], dtype: "f32" });
  const b = make("input", [], { name: "b", shape: [size, size], dtype: "f32" });
  const g: Graph = { name: "matmul", inputs: [a, b], outputs: [{ name: "c", node: make("matmul", [a, b], { transA: false, transB: false }) }] };
  const program = lowerCpu(g);
  const rng = new Random(2);
  const feeds = new Map<string, NDArray>(["a", "b"].map((n) => [n, { shape: [size, size], data: Float32Array.from({ length: size * size }, () => rng.uniform() - 0.5) }]));
  const exes = { js: new CpuExecutable(program, "f32", { products: "js" }), wasm: new CpuExecutable(program, "f32", { products: "wasm" }) };
  const seconds = await alternate({ js: () => void exes.js.run(feeds, new Map()), wasm: () => void exes.wasm.run(feeds, new Map()) });
  const flops = 2 * size ** 3;
  return { js: flops / seconds.js / 1e9, wasm: flops / seconds.wasm / 1e9 };
}

async function main(): Promise<void> {
  console.log(`GEMM module emitted, compiled and instantiated synchronously in ${moduleCompileTime().toFixed(2)} ms`);
  console.log(`CPU backend, JavaScript interpreter (cpu-js) vs WebAssembly (cpu, 1 thread); median of ${rounds} alternating rounds`);
  console.log("case                          cpu-js     cpu (wasm)  speedup");
  const row = (what: string, unit: string, r: Record<GemmChoice, number>) =>
    console.log(`${what.padEnd(28)} ${r.js.toFixed(1).padStart(8)}  ${r.wasm.toFixed(1).padStart(10)}  ${(r.wasm / r.js).toFixed(2).padStart(7)}x  ${unit}`);
  row("models/mlp.ts, batch 128", "steps/s", await training("mlp", 128, quick ? 5 : 10));
  row("models/cnn.ts, batch 64", "steps/s", await training("cnn", 64, quick ? 2 : 4));
  row("matmul 1024^3 (executable)", "GFLOP/s", await matmul(1024));
}

await main();
