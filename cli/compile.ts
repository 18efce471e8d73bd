// `dlc compile MODEL.ts`: the frontend, and the dumps of what it built.

import { Compilation } from "../compiler/compilation.js";
import { CompileError, renderDiagnostic } from "../compiler/frontend/diagnostics.js";
import { printDot, printProgram } from "../compiler/ir/print.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import { explainFusion } from "../compiler/fusion/explain.js";
import type { PassStat } from "../compiler/passes/simplify.js";
import { writeFileAtomic } from "../runtime/checkpoint/atomic.js";
import { CpuExecutable } from "../runtime/cpu/executable.js";
import type { GraphProgram } from "../runtime/program/program.js";
import { describeTile, type GpuKernelCode, type KernelFamily, type WorkgroupTile } from "../runtime/program/gpu.js";
import { DEFAULT_LIMITS } from "../runtime/program/tile-cost.js";
import { chooseKernel } from "../runtime/webgpu/kernel-family.js";
import type { EmitKind } from "./emit.js";
import { UsageError } from "./exit.js";
import { checkOutputs, named } from "./outputs.js";
import { printable } from "./terminal.js";

export interface CompileCommandOptions {
  out?: string;
  emit?: EmitKind;
  fusion: boolean;
  /** Entry points to compile with their gradients: comma-separated names, or "all". */
  grad?: string;
  json?: boolean;
  quiet?: boolean;
  /** --emit wasm: the size every symbolic dimension takes (default: the model's batch). */
  batch?: number;
  /** With --emit wgsl: the products of this family only (default: every family's). */
  kernels?: KernelFamily;
}

export async function runCompile(file: string, opts: CompileCommandOptions, out: (s: string) => void): Promise<void> {
  checkOutputs([named("-o", opts.out)], [named("the model", file)]);
  if (opts.grad !== undefined && opts.out === undefined) throw new UsageError("--grad applies to the artifact: add -o model.dlc");
  const compilation = new Compilation(file);
  if (opts.out !== undefined) writeModel(compilation, opts, out);
  const emit = opts.emit ?? (opts.out === undefined ? "ir" : undefined);
  if (opts.batch !== undefined && emit !== "wasm") throw new UsageError("--batch applies to --emit wasm");
  if (opts.kernels !== undefined && emit !== "wgsl") throw new UsageError("--kernels applies to --emit wgsl");
  if (emit !== undefined) printModel(compilation, emit, out, { fusion: opts.fusion, ...(opts.batch !== undefined ? { batch: opts.batch } : {}), ...(opts.kernels !== undefined ? { kernels: opts.kernels } : {}) });
}

/** `-o model.dlc`: the artifact, with a training step when the model has a loss. */
function writeModel(c: Compilation, opts: CompileCommandOptions, out: (s: string) => void): void {
  const started = performance.now();
  const training = c.hasLoss();
  const grad = opts.grad === undefined ? [] : opts.grad === "all" ? true : opts.grad.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const variant = { training, webgpu: true, fusion: opts.fusion, grad };
  const model = c.model(variant);
  const artifact = c.artifact(variant);
  writeFileAtomic(opts.out!, artifact);
  const bytes = artifact.length;
  const seconds = (performance.now() - started) / 1000;
  const kernels = model.train?.step.gpu?.kernels.length;
  if (opts.json) out(JSON.stringify({ artifact: opts.out, bytes, seconds, entries: model.entries.map((e) => e.name), training, kernels_per_train_step: kernels ?? null }) + "\n");
  else if (!opts.quiet) {
    const step = training ? `, a training step of ${kernels} WebGPU kernels` : "";
    out(`dlc: wrote ${opts.out} (${(bytes / 1024).toFixed(1)} KB): entry points ${model.entries.map((e) => e.name).join(", ")}${step} (${seconds.toFixed(2)}s)\n`);
  }
}

/**
 * `--emit KIND`: a dump of one stage of the compilation; `fusion: false` (--no-fusion) shows the
 * unfused plan and kernels, `kernels` one family's products (the hardware family's as a device
 * with WebGPU's default limits chooses them), `batch` the sizes of --emit wasm.
 */
export function printModel(c: Compilation, emit: EmitKind, out: (s: string) => void, options: { fusion?: boolean; batch?: number; kernels?: KernelFamily } = {}): void {
  const opts = { emit, fusion: options.fusion !== false };
  const program = c.source();
  if (opts.emit === "grad" || opts.emit === "stats" || opts.emit === "fused") c.training();
  for (const g of program.entries) verifyGraph(g);
  switch (opts.emit) {
    case "ir":
      out(printProgram(program));
      return;
    case "dot":
      out(printDot(program.entries));
      return;
    case "grad": {
      const { graph } = c.training();
      verifyGraph(graph);
      out(printProgram(program, [graph]));
      return;
    }
    case "fused": {
      const step = c.step().graph;
      out(explainFusion(step, c.plan(step, opts.fusion)).join("\n") + "\n");
      return;
    }
    case "wgsl": {
      // The training step's kernels when the model trains, else every entry point's.
      const model = c.model({ training: c.hasLoss(), webgpu: true, fusion: opts.fusion });
      const programs = model.train ? [model.train.step] : model.entries;
      // Each kernel's header names its family and tile; a kernel both families share names none.
      const header = (e: string, k: GpuKernelCode, family?: KernelFamily, tile?: WorkgroupTile) => `// ---- ${e}: ${k.name}${family ? ` (${family}${tile ? `: ${describeTile(tile)}` : ""})` : ""}\n${k.wgsl}\n`;
      for (const e of programs) {
        for (const k of e.gpu!.kernels) {
          if (options.kernels !== undefined) {
            const chosen = chooseKernel(k, options.kernels, DEFAULT_LIMITS);
            out(header(e.name, chosen.code, chosen.family, chosen.tile));
            continue;
          }
          out(header(e.name, k, k.variants ? "software" : undefined));
          for (const v of k.variants ?? []) out(header(e.name, v, v.family, v.tile));
        }
      }
      return;
    }
    case "wasm": {
      // The CPU plan's kernels for the training step (else every entry point) at one size: each plan
      // is emitted for its sizes, every symbolic dimension here taking the batch's.
      const model = c.model({ training: c.hasLoss(), webgpu: false, fusion: opts.fusion });
      const batch = options.batch ?? model.train?.config.batch ?? 1;
      const programs = model.train ? [model.train.step] : model.entries;
      for (const e of programs) {
        const text = new CpuExecutable(e.cpu, "f32", { products: "wasm" }).wasmText(sizes(e.cpu.graph, batch));
        out(`;; ---- ${e.name}, every symbolic size ${batch}: ${text === undefined ? "no WebAssembly kernels (matrix products and convolutions run in the engine's GEMM module)" : "the plan's kernels (matrix products and convolutions run in the engine's GEMM module)"}\n${text ?? ""}\n`);
      }
      return;
    }
    case "stats":
      out(printStats(program.entries.find((g) => g.name === "loss")!.name, c.training().stats));
      return;
  }
  throw new UsageError(`unknown --emit kind '${opts.emit as string}'`);
}

/** Every symbolic dimension of the program's inputs bound to `size`. */
function sizes(graph: GraphProgram, size: number): Record<string, number> {
  const env: Record<string, number> = {};
  for (const { node } of graph.inputs) for (const d of graph.nodes[node]!.shape) if (typeof d === "string") env[d] = size;
  return env;
}

/**
 * Renders a compile error with its source line, reading the file the error
 * points into. The message, notes and hint can carry a model's own strings (a
 * thrown error, a parameter name) and the location a path: their control
 * characters are escaped by printable(); the source line and caret keep their layout.
 */
export function renderCompileError(e: CompileError): string {
  const d = e.diagnostic;
  const text = renderDiagnostic({ ...d, message: printable(d.message), hint: printable(d.hint), notes: d.notes.map(printable) });
  // The first line is `file:line:col - error CODE: message`; printable() leaves escaped text unchanged.
  const [first, ...rest] = text.split("\n");
  return [printable(first!), ...rest].join("\n");
}

export function printStats(entry: string, stats: readonly PassStat[]): string {
  const lines = [`training graph of '${entry}': node counts through the pipeline`, `${"pass".padEnd(22)}${"before".padStart(8)}${"after".padStart(8)}`];
  for (const s of stats) lines.push(`${s.pass.padEnd(22)}${String(s.before).padStart(8)}${String(s.after).padStart(8)}`);
  lines.push(`${"total".padEnd(22)}${String(stats[0]?.before ?? 0).padStart(8)}${String(stats.at(-1)?.after ?? 0).padStart(8)}`);
  return lines.join("\n") + "\n";
}
