// bench/RESULTS.md and bench/training.svg from one run's measurements.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Timing } from "./measure.js";

export interface FusionRow {
  workload: string;
  device: "webgpu" | "cpu";
  contender: string;
  timing?: Timing | undefined;
  note?: string | undefined;
  dispatches?: number;
  bytes?: number;
  flops?: number;
}

export interface TrainingRow {
  model: "mlp" | "cnn";
  batch: number;
  contender: string;
  timing?: Timing;
  stepsPerSecond?: number;
  compileSeconds?: number;
  firstStepSeconds?: number;
  loss?: number;
  note?: string;
}

export interface MemoryRow {
  model: string;
  batch: number;
  planned: number;
  unplanned: number;
  unfusedPlanned: number;
  unfusedUnplanned: number;
}

export interface Report {
  date: string;
  machine: string;
  adapter: string;
  versions: Record<string, string>;
  sampling: string;
  fusion: FusionRow[];
  training: TrainingRow[];
  memory: MemoryRow[];
  seconds: number;
}

const ms = (s: number) => (s * 1e3 >= 100 ? (s * 1e3).toFixed(0) : (s * 1e3).toFixed(2));
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const spread = (t: Timing) => `${ms(t.min)}–${ms(t.max)}`;

/**
 * The flops of each workload whose work is arithmetic rather than memory
 * traffic (the matmuls: dlc's kernels do over 10 flops per byte moved). Every
 * contender does the same arithmetic, so each gets a GFLOP/s.
 */
function computeBound(rows: FusionRow[]): Map<string, number> {
  return new Map(rows.filter((r) => r.flops && r.bytes && isComputeBound({ flops: r.flops, bytes: r.bytes })).map((r) => [r.workload, r.flops!]));
}

/** Whether a workload is compute-bound (see computeBound), from one of dlc's rows of it. */
export function isComputeBound(stats: { readonly flops: number; readonly bytes: number }): boolean {
  return stats.flops > 10 * stats.bytes;
}

function fusionTable(rows: FusionRow[], device: "webgpu" | "cpu"): string[] {
  const flopsOf = computeBound(rows);
  const out = [
    `| workload | contender | ms (median) | spread (ms) | samples | dispatches | bytes moved | throughput |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  for (const r of rows.filter((x) => x.device === device)) {
    const pass = r.contender.startsWith("one memory pass");
    // A memory pass is the floor of memory-bound workloads only.
    if (pass && flopsOf.has(r.workload)) continue;
    if (!r.timing) {
      out.push(`| ${r.workload} | ${r.contender} | n/a | | | | | ${r.note ?? ""} |`);
      continue;
    }
    const t = r.timing.median;
    const work = pass ? undefined : flopsOf.get(r.workload);
    const throughput = work ? `${(work / t / 1e9).toFixed(2)} GFLOP/s` : r.bytes ? `${(r.bytes / t / 1e9).toFixed(2)} GB/s` : "";
    out.push(`| ${r.workload} | ${r.contender} | ${ms(t)} | ${spread(r.timing)} | ${r.timing.samples} | ${r.dispatches ?? "n/a"} | ${r.bytes ? mb(r.bytes) : "n/a"} | ${throughput} |`);
  }
  return out;
}

/** Unfused against fused on the same threads (one); against the peers, dlc's fastest fused contender (on the CPU, 1 or 2 threads). */
function fusionRatios(rows: FusionRow[], device: "webgpu" | "cpu"): string[] {
  // On the CPU, also the fastest dlc fused time over one memory pass of the workload's bytes (memory-bound workloads).
  const out = [
    `| workload | time, unfused / fused | dispatches, unfused / fused | bytes, unfused / fused | fastest dlc fused | fastest peer | dlc fused vs the fastest peer |${device === "cpu" ? " fastest dlc fused / one memory pass |" : ""}`,
    `| --- | ---: | ---: | ---: | --- | --- | ---: |${device === "cpu" ? " ---: |" : ""}`,
  ];
  const fastest = (xs: FusionRow[]) => xs.filter((r) => r.timing).sort((a, b) => a.timing!.median - b.timing!.median)[0];
  for (const w of [...new Set(rows.map((r) => r.workload))]) {
    const here = rows.filter((r) => r.workload === w && r.device === device);
    const f = here.find((r) => r.contender === "dlc fused");
    const u = here.find((r) => r.contender === "dlc unfused");
    if (!f?.timing || !u?.timing) continue;
    const dlc = fastest(here.filter((r) => r.contender === "dlc fused" || r.contender.startsWith("dlc fused, ")))!;
    const best = fastest(here.filter((r) => !r.contender.startsWith("dlc") && !r.contender.startsWith("one memory pass")));
    const pass = here.find((r) => r.contender.startsWith("one memory pass"))?.timing;
    const [d, p] = [dlc.timing!.median, best?.timing!.median ?? NaN];
    const versus = !best ? "" : p > d ? `dlc ${ratio(p, d)} faster` : `${best.contender} ${ratio(d, p)} faster`;
    const floor = device === "cpu" ? ` ${pass && !computeBound(here).has(w) ? ratio(d, pass.median) : "n/a"} |` : "";
    out.push(`| ${w} | ${ratio(u.timing.median, f.timing.median)} | ${ratio(u.dispatches!, f.dispatches!)} | ${ratio(u.bytes!, f.bytes!)} | ${dlc.contender} (${ms(d)} ms) | ${best ? `${best.contender} (${ms(p)} ms)` : "n/a"} | ${versus} |${floor}`);
  }
  return out;
}

function trainingTable(rows: TrainingRow[]): string[] {
  const out = [`| model | batch | contender | steps/s (median) | examples/s | step time spread (ms) | compile (s) | to first step (s) | last loss read |`, `| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |`];
  for (const r of rows) {
    if (r.stepsPerSecond === undefined || !r.timing) {
      out.push(`| ${r.model} | ${r.batch} | ${r.contender} | n/a | | | | | ${r.note ?? ""} |`);
      continue;
    }
    const perStep = r.timing.median * r.stepsPerSecond;
    out.push(
      `| ${r.model} | ${r.batch} | ${r.contender} | ${r.stepsPerSecond.toFixed(2)} | ${(r.stepsPerSecond * r.batch).toFixed(0)} | ${ms(r.timing.min / perStep)}–${ms(r.timing.max / perStep)} | ${r.compileSeconds?.toFixed(2) ?? ""} | ${r.firstStepSeconds?.toFixed(2) ?? ""} | ${r.loss?.toFixed(3) ?? ""} |`,
    );
  }
  return out;
}

/**
 * Ratios of steps/s, like with like: every contender here read the loss back
 * every step (dlc's WebGPU at the CLI's cadence is listed above, not
 * compared). WebGPU in one table; dlc's CPU, a row per thread count, in another.
 */
function trainingRatios(rows: TrainingRow[]): string[] {
  const gpu = [`| model | dlc webgpu / best TF.js | dlc webgpu / TF.js webgpu | dlc webgpu / jax-js webgpu |`, `| --- | ---: | ---: | ---: |`];
  const cpu = [`| model | dlc contender | / TF.js wasm | / jax-js wasm | / dlc webgpu | / dlc cpu-js |`, `| --- | --- | ---: | ---: | ---: | ---: |`];
  const r = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? ratio(a, b) : "n/a");
  for (const model of ["mlp", "cnn"] as const) {
    const mine = rows.filter((x) => x.model === model);
    const s = (c: string) => mine.find((x) => x.contender === c)?.stepsPerSecond;
    const tf = mine.filter((x) => x.contender.startsWith("tfjs") && x.stepsPerSecond !== undefined).sort((a, b) => b.stepsPerSecond! - a.stepsPerSecond!)[0];
    gpu.push(`| ${model} | ${r(s("dlc webgpu"), tf?.stepsPerSecond)}${tf ? ` (${tf.contender})` : ""} | ${r(s("dlc webgpu"), s("tfjs-webgpu"))} | ${r(s("dlc webgpu"), s("jax-webgpu"))} |`);
    for (const c of mine.filter((x) => x.contender.startsWith("dlc cpu ("))) {
      const v = c.stepsPerSecond;
      cpu.push(`| ${model} | ${c.contender} | ${r(v, s("tfjs-wasm"))} | ${r(v, s("jax-wasm"))} | ${r(v, s("dlc webgpu"))} | ${r(v, s("dlc cpu-js"))} |`);
    }
  }
  return [...gpu, "", ...cpu];
}

/** Horizontal bars of steps/s per contender, one panel per model. */
export function trainingSvg(rows: TrainingRow[]): string {
  const models = ["mlp", "cnn"] as const;
  const contenders = [...new Set(rows.map((r) => r.contender))];
  const barH = 18;
  const panelH = contenders.length * (barH + 6) + 40;
  const width = 720;
  const left = 180; // room for the longest label, "dlc webgpu (loss every 25)"
  const parts: string[] = [];
  models.forEach((model, p) => {
    const y0 = p * panelH;
    const data = contenders.map((c) => ({ c, v: rows.find((r) => r.model === model && r.contender === c)?.stepsPerSecond }));
    const max = Math.max(1e-9, ...data.map((d) => d.v ?? 0));
    parts.push(`<text x="10" y="${y0 + 20}" font-size="14" font-weight="bold">${model === "mlp" ? "MLP, batch 128" : "CNN, batch 64"}: training steps per second (longer is better)</text>`);
    data.forEach((d, i) => {
      const y = y0 + 32 + i * (barH + 6);
      const w = d.v === undefined ? 0 : ((width - left - 80) * d.v) / max;
      const color = d.c.startsWith("dlc") ? "#2b6cb0" : d.c.startsWith("tfjs") ? "#dd6b20" : "#38a169";
      parts.push(`<text x="${left - 6}" y="${y + 13}" font-size="12" text-anchor="end">${d.c}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
      parts.push(`<text x="${left + w + 4}" y="${y + 13}" font-size="12">${d.v === undefined ? "n/a" : d.v.toFixed(2)}</text>`);
    });
  });
  const height = models.length * panelH;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`;
}

/**
 * The GPU targets of issue 17, from a `--gpu` run: dlc ahead of both peers on
 * every case, and its 1024 matmul at least half the best WGSL matmul of the
 * run (the peers' and the reference kernel's).
 */
function gpuTargets(r: Report): string[] {
  const out = ["| case | dlc | TF.js webgpu | jax-js webgpu | dlc ahead of both |", "| --- | ---: | ---: | ---: | --- |"];
  const time = (rows: FusionRow[], c: string) => rows.find((x) => x.contender === c)?.timing?.median;
  const cell = (v: number | undefined, unit: (v: number) => string) => (v === undefined ? "n/a" : unit(v));
  for (const w of [...new Set(r.fusion.map((x) => x.workload))]) {
    const rows = r.fusion.filter((x) => x.workload === w && x.device === "webgpu");
    const [d, tf, jax] = [time(rows, "dlc fused"), time(rows, "tfjs-webgpu"), time(rows, "jax-webgpu")];
    const ahead = d !== undefined && tf !== undefined && jax !== undefined ? (d < tf && d < jax ? "yes" : "no") : "n/a";
    out.push(`| ${w} (ms) | ${cell(d, ms)} | ${cell(tf, ms)} | ${cell(jax, ms)} | ${ahead} |`);
  }
  for (const model of ["mlp", "cnn"] as const) {
    const s = (c: string) => r.training.find((x) => x.model === model && x.contender === c)?.stepsPerSecond;
    const [d, tf, jax] = [s("dlc webgpu"), s("tfjs-webgpu"), s("jax-webgpu")];
    const ahead = d !== undefined && tf !== undefined && jax !== undefined ? (d > tf && d > jax ? "yes" : "no") : "n/a";
    const f = (v: number) => v.toFixed(2);
    out.push(`| ${model} training (steps/s, loss read every step) | ${cell(d, f)} | ${cell(tf, f)} | ${cell(jax, f)} | ${ahead} |`);
  }
  const matmuls = r.fusion.filter((x) => x.workload === "matmul" && x.device === "webgpu" && x.timing);
  const best = matmuls.sort((a, b) => a.timing!.median - b.timing!.median)[0];
  const dlc = matmuls.find((x) => x.contender === "dlc fused");
  const gflops = (x: FusionRow) => (2 * 1024 ** 3) / x.timing!.median / 1e9;
  if (best && dlc) {
    const share = gflops(dlc) / gflops(best);
    out.push("", `matmul 1024: dlc ${gflops(dlc).toFixed(1)} GFLOP/s, the run's best WGSL matmul ${gflops(best).toFixed(1)} (${best.contender}): ${(100 * share).toFixed(0)}% (target: at least 50%, ${share >= 0.5 ? "met" : "not met"}).`);
  }
  return out;
}

/**
 * Writes `name`.md (and the measurements as JSON, and the training chart)
 * into `dir`: RESULTS.md, results.json and training.svg for the full run;
 * RESULTS-<adapter>.md, .json and -training.svg for a --gpu run.
 */
export function writeReport(dir: string, r: Report, name = "RESULTS"): void {
  const full = name === "RESULTS";
  const [json, svg] = full ? ["results.json", "training.svg"] : [`${name}.json`, `${name}-training.svg`];
  // The raw measurements, so that the report can be regenerated (`node --import tsx bench/report.ts`).
  writeFileSync(join(dir, json), JSON.stringify(r, null, 1) + "\n");
  const lines: string[] = [];
  lines.push(full ? "# dlc benchmarks" : `# dlc on ${r.adapter}: the WebGPU contenders`, "");
  lines.push(`Run on ${r.date.slice(0, 10)} (${r.seconds.toFixed(0)} s in all) with \`npm run bench${full ? "" : " -- --gpu"}\`.`, "");
  lines.push(`- Machine: ${r.machine}`);
  lines.push(`- WebGPU adapter (dlc and the peers alike): ${r.adapter}`);
  lines.push(`- Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  lines.push(`- Sampling: ${r.sampling}; the spread is the fastest and slowest sample. Ratios compare medians measured in this one run.`, "");
  if (r.fusion.length) {
    lines.push("## Fusion micro-benchmarks", "");
    lines.push(
      "GELU (tanh form) on 4M floats; softmax and layer norm over [4096, 1024]; matmul, and relu(matmul + bias), at 1024; one Adam update of 1M parameters. Every contender's inputs are resident (uploaded, or copied into dlc's heap, once). dlc's dispatches and bytes are counted from its kernels (every binding read or written once per run); throughput is bytes moved per second, or GFLOP/s for the matmuls (for every contender: they all do the same arithmetic). On the CPU, dlc runs on 1 thread and fused also on 2; TensorFlow.js wasm and jax-js wasm run on one thread in Node (no Worker global). \"One memory pass (copy)\" is the floor of a memory-bound workload: a one-thread copy moving as many bytes as its inputs and outputs.",
      "",
    );
    for (const device of full ? (["webgpu", "cpu"] as const) : (["webgpu"] as const)) {
      lines.push(`### ${device === "webgpu" ? "WebGPU" : "CPU"}`, "", ...fusionTable(r.fusion, device), "", ...fusionRatios(r.fusion, device), "");
    }
  }
  if (r.training.length) {
    lines.push("## Training throughput", "");
    lines.push("One Adam step (forward, backward, update) on consecutive batches of the Fashion-MNIST training set; dlc reads the loss back every 25 steps on WebGPU (as `dlc train` does), every step on the CPU (on 1 thread and on 2); the peers synchronize every step. \"To first step\" includes creating the backend and compiling its shaders.", "");
    lines.push(...trainingTable(r.training), "", "Ratios of steps/s:", "", ...trainingRatios(r.training), "", `![training throughput](${svg})`, "");
    writeFileSync(join(dir, svg), trainingSvg(r.training));
  }
  if (r.memory.length) {
    lines.push("## Memory", "", "Peak bytes of the WebGPU buffers of one training step (parameters, optimizer state, inputs and outputs included).", "");
    lines.push("| model | batch | fused, memory plan | fused, a buffer per value | unfused, memory plan | unfused, a buffer per value |", "| --- | ---: | ---: | ---: | ---: | ---: |");
    for (const m of r.memory) lines.push(`| ${m.model} | ${m.batch} | ${mb(m.planned)} | ${mb(m.unplanned)} | ${mb(m.unfusedPlanned)} | ${mb(m.unfusedUnplanned)} |`);
    lines.push("");
  }
  if (!full) lines.push("## Targets (issue 17)", "", ...gpuTargets(r), "");
  writeFileSync(join(dir, `${name}.md`), lines.join("\n"));
}

// Regenerates RESULTS.md and training.svg from results.json.
if (process.argv[1]?.endsWith("report.ts")) {
  const { readFileSync } = await import("node:fs");
  const dir = join(process.argv[1], "..");
  writeReport(dir, JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as Report);
}
