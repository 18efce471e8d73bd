// `dlc inspect MODEL`: what the compiler made of a model. Parameters, the
// kernels of every entry point and of the training step (fused and unfused),
// FLOPs and bytes per step, peak buffer memory with and without the memory
// plan, and with --explain-fusion why each value got a buffer.

import { evalDim } from "../runtime/program/dim.js";
import { flops } from "../runtime/program/cost.js";
import { describeTile, type GpuKernelCode, type GpuProgram, type KernelFamily } from "../runtime/program/gpu.js";
import { DEFAULT_LIMITS } from "../runtime/program/tile-cost.js";
import { chooseKernel } from "../runtime/webgpu/kernel-family.js";
import type { EntryProgram, ModelProgram } from "../runtime/program/model.js";
import { workgroups } from "../runtime/webgpu/executable.js";
import { planMemory } from "../runtime/webgpu/memory.js";
import type { Compilation } from "../compiler/compilation.js";
import { compilationOf, loadModel } from "./model.js";
import { printable } from "./terminal.js";

export interface InspectOptions {
  batch?: number;
  json?: boolean;
  explainFusion?: boolean;
  /** The family whose products are counted, as a device with WebGPU's default limits runs it (default hardware). */
  kernels?: KernelFamily;
}

interface KernelInfo {
  name: string;
  /** The product's family, null for a kernel both families share. */
  family: KernelFamily | null;
  /** A hardware product's workgroup tile, described. */
  tile: string | null;
  ops: string[];
  workgroups: number;
  bytes: number;
}

interface EntryInfo {
  name: string;
  kernels: KernelInfo[];
  kernels_unfused: number | null;
  flops: number;
  bytes: number;
  bytes_unfused: number | null;
  peak_bytes: number;
  peak_bytes_unplanned: number;
  peak_bytes_unfused: number | null;
}

function entryInfo(fused: EntryProgram, unfused: EntryProgram | undefined, env: Record<string, number>, family: KernelFamily): EntryInfo {
  const chosen = fused.gpu!.kernels.map((k) => chooseKernel(k, family, DEFAULT_LIMITS));
  const gpu = { ...fused.gpu!, kernels: chosen.map((k) => k.code) };
  const kernelBytes = (k: GpuKernelCode) => k.bytes.reduce<number>((a, d) => a + evalDim(d, env), 0);
  const bytes = (p: GpuProgram) => p.kernels.reduce<number>((acc, k) => acc + kernelBytes(k), 0);
  const memory = planMemory(gpu, env);
  return {
    name: fused.name,
    kernels: chosen.map(({ code: k, family, tile }) => ({ name: k.name, family: family ?? null, tile: tile ? describeTile(tile) : null, ops: [...k.ops], workgroups: workgroups(k, env), bytes: kernelBytes(k) })),
    kernels_unfused: unfused ? unfused.gpu!.kernels.length : null,
    flops: flops(gpu.graph, env),
    bytes: bytes(gpu),
    bytes_unfused: unfused ? bytes(unfused.gpu!) : null,
    peak_bytes: memory.peakBytes,
    peak_bytes_unplanned: memory.unplannedBytes,
    peak_bytes_unfused: unfused ? planMemory(unfused.gpu!, env).peakBytes : null,
  };
}

const mb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} KB`);
const group = (n: number) => n.toLocaleString("en-US");

export async function runInspect(file: string, o: InspectOptions): Promise<void> {
  // A source file is compiled (once) both ways; an artifact holds one of them.
  const compilation = file.endsWith(".dlc") ? undefined : await compilationOf(file);
  process.stdout.write(await inspectReport(file, o, compilation));
}

/** What `dlc inspect` prints: of `compilation` for a source file, else of the artifact `file`. */
export async function inspectReport(file: string, o: InspectOptions, compilation?: Compilation): Promise<string> {
  const training = compilation ? compilation.hasLoss() : true;
  const fused = compilation ? compilation.model({ training, webgpu: true }) : await loadModel(file, { training: false, webgpu: true });
  const unfused = compilation?.model({ training, webgpu: true, fusion: false });
  const batch = o.batch ?? fused.train?.config.batch ?? 128;
  const env = { batch };
  const pair = (m: ModelProgram) => [...m.entries, ...(m.train ? [m.train.step] : [])];
  const family = o.kernels ?? "hardware";
  const entries = pair(fused).map((e, i) => entryInfo(e, unfused ? pair(unfused)[i] : undefined, env, family));
  const step = entries.find((e) => e.name === "train");
  const params = fused.params.map((p) => ({ name: p.name, shape: [...p.shape], size: p.shape.reduce((a, b) => a * b, 1), trainable: p.trainable !== false }));
  const summary = {
    model: fused.file.split("/").pop(),
    hash: fused.hash,
    batch,
    params,
    param_count: params.reduce((a, p) => a + p.size, 0),
    kernels_per_train_step: step?.kernels.length ?? null,
    kernels_per_train_step_unfused: step?.kernels_unfused ?? null,
    flops_per_train_step: step?.flops ?? null,
    bytes_per_train_step: step?.bytes ?? null,
    bytes_per_train_step_unfused: step?.bytes_unfused ?? null,
    peak_bytes: step?.peak_bytes ?? null,
    peak_bytes_unplanned: step?.peak_bytes_unplanned ?? null,
    peak_bytes_unfused: step?.peak_bytes_unfused ?? null,
    kernel_family: family,
    kernel_limits: DEFAULT_LIMITS,
    entries,
  };
  if (o.json) return JSON.stringify(summary) + "\n";
  const lines: string[] = [];
  lines.push(`model ${summary.model} (sources ${fused.hash.slice(0, 12)})`);
  lines.push(`kernels: the ${family} family's products, as a device with WebGPU's default limits runs them (--kernels)`);
  lines.push(`parameters: ${params.length} tensors, ${group(summary.param_count)} values (${mb(summary.param_count * 4)})`);
  const w = Math.max(...params.map((p) => p.name.length));
  for (const p of params) lines.push(`  ${p.name.padEnd(w)}  [${p.shape.join(", ")}]  ${group(p.size)}${p.trainable ? "" : "  (not trained: written by the step)"}`);
  for (const e of entries) {
    lines.push("");
    const title = e.name === "train" ? `training step (forward, backward, ${fused.train!.config.optimizer.kind})` : `entry ${e.name}`;
    const unfusedText = (n: number | null, f: (x: number) => string) => (n === null ? "" : `, ${f(n)} unfused`);
    lines.push(
      `${title}, batch ${batch}: ${e.kernels.length} kernels${unfusedText(e.kernels_unfused, String)}; ${(e.flops / 1e6).toFixed(1)} MFLOP; ${mb(e.bytes)} moved${unfusedText(e.bytes_unfused, mb)}; ` +
        `peak buffers ${mb(e.peak_bytes)} (${mb(e.peak_bytes_unplanned)} without the memory plan${unfusedText(e.peak_bytes_unfused, mb)})`,
    );
    const nw = Math.max(...e.kernels.map((k) => k.name.length));
    for (const k of e.kernels) lines.push(`  ${k.name.padEnd(nw)}  ${String(k.workgroups).padStart(6)} workgroups  ${mb(k.bytes).padStart(9)}  ${k.ops.join(", ")}`);
  }
  if (o.explainFusion && compilation) {
    const { explainFusion } = await import("../compiler/fusion/explain.js");
    const step = compilation.step().graph;
    lines.push("", ...explainFusion(step, compilation.plan(step)));
  }
  // Names come from the artifact, which anyone may have written.
  return lines.map(printable).join("\n") + "\n";
}
