// A profile as a table: per kernel its calls, total time, FLOPs and bytes per
// call, the rates they imply, and its share of the kernels' time; sorted by
// time, with totals and the step's wall time. The same rows print as text
// (`dlc profile`) and JSON (`--json`).

import type { Profile } from "./profile.js";
import type { TimingMethod } from "./recorder.js";

export interface KernelRow {
  readonly name: string;
  readonly ops: readonly string[];
  readonly calls: number;
  /** Total milliseconds over every call. */
  readonly ms: number;
  /** Per call. */
  readonly flops: number;
  readonly bytes: number;
  /** Achieved rates over every call; null when the time measured was 0. */
  readonly gflops_per_s: number | null;
  readonly gb_per_s: number | null;
  /** Of all kernels' time (the shares add up to 1). */
  readonly share: number;
  /** On the CPU, where it ran (WebAssembly or JavaScript). */
  readonly engine?: "wasm" | "js";
}

export interface ProfileSummary {
  readonly backend: string;
  readonly device: string;
  readonly method: TimingMethod;
  /** How the method measures, for people. */
  readonly method_text: string;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  /** Mean wall time of a profiled step, from its start until its results were back. */
  readonly step_ms: number;
  /** Mean time of a step's kernels (their sum). */
  readonly kernel_ms_per_step: number;
  readonly kernels: readonly KernelRow[];
  /** Over every kernel: calls and ms over every step; flops and bytes of one step. */
  readonly total: Omit<KernelRow, "name" | "ops" | "engine">;
}

export const METHOD_TEXT: Record<TimingMethod, string> = {
  "wall-clock": "the host's clock around each kernel",
  "timestamp-query": "GPU timestamp queries around each dispatch (one compute pass per dispatch)",
  "per-dispatch": "each dispatch submitted alone and awaited, on the host's clock (the adapter has no timestamp-query; short kernels include the round trip)",
};

const rate = (perCall: number, calls: number, ms: number) => (ms > 0 ? (perCall * calls) / ms / 1e6 : null);

export function summarize(p: Profile): ProfileSummary {
  const steps = p.steps.length;
  const totalMs = p.calls.reduce((a, c) => a + c.ms, 0);
  const totalCalls = p.calls.length;
  const rows = p.kernels.map((k, i) => {
    const mine = p.calls.filter((c) => c.kernel === i);
    const ms = mine.reduce((a, c) => a + c.ms, 0);
    // With no time measured at all, calls stand in for time.
    const share = totalMs > 0 ? ms / totalMs : mine.length / Math.max(totalCalls, 1);
    return { name: k.name, ops: k.ops, calls: mine.length, ms, flops: k.flops, bytes: k.bytes, gflops_per_s: rate(k.flops, mine.length, ms), gb_per_s: rate(k.bytes, mine.length, ms), share, ...(k.engine ? { engine: k.engine } : {}) };
  });
  rows.sort((a, b) => b.ms - a.ms || b.calls - a.calls);
  const flops = p.kernels.reduce((a, k) => a + k.flops, 0);
  const bytes = p.kernels.reduce((a, k) => a + k.bytes, 0);
  return {
    backend: p.backend,
    device: p.device,
    method: p.method,
    method_text: METHOD_TEXT[p.method],
    batch: p.batch,
    steps,
    warmup: p.warmup,
    step_ms: p.steps.reduce((a, s) => a + s.ms, 0) / Math.max(steps, 1),
    kernel_ms_per_step: totalMs / Math.max(steps, 1),
    kernels: rows,
    total: { calls: totalCalls, ms: totalMs, flops, bytes, gflops_per_s: rate(flops, steps, totalMs), gb_per_s: rate(bytes, steps, totalMs), share: 1 },
  };
}

/** 1234567 -> "1.23M". */
function si(n: number): string {
  const units = ["", "K", "M", "G", "T"];
  let u = 0;
  while (Math.abs(n) >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return u === 0 ? String(Math.round(n)) : `${n.toPrecision(3)}${units[u]}`;
}

const fixed = (n: number | null, digits: number) => (n === null ? "-" : n.toFixed(digits));

/** Names longer than this are cut in the middle in the text table (a long row chain's); JSON keeps them whole. */
const NAME_WIDTH = 64;

function elide(name: string): string {
  if (name.length <= NAME_WIDTH) return name;
  const sizes = name.slice(name.lastIndexOf(" "));
  return `${name.slice(0, NAME_WIDTH - sizes.length - 3)}...${sizes}`;
}

/** The summary as text: a header, the table, the totals line. `title` names what was profiled. */
export function profileText(s: ProfileSummary, title: string): string {
  const header = [
    `${title} on ${s.device}, batch ${s.batch}: ${s.steps} steps after ${s.warmup} warm-up`,
    `timing: ${s.method} (${s.method_text})`,
    `step: ${s.step_ms.toFixed(3)} ms wall, ${s.kernel_ms_per_step.toFixed(3)} ms in ${s.kernels.length} kernels (${s.step_ms > 0 ? ((100 * s.kernel_ms_per_step) / s.step_ms).toFixed(1) : "-"}% of the wall time)`,
    "",
  ];
  const cells = (r: Omit<KernelRow, "name" | "ops" | "engine">, name: string, ops: string) => [name, String(r.calls), r.ms.toFixed(3), `${(100 * r.share).toFixed(1)}%`, si(r.flops), `${si(r.bytes)}B`, fixed(r.gflops_per_s, 2), fixed(r.gb_per_s, 2), ops];
  const table = [
    ["kernel", "calls", "ms", "share", "FLOP/call", "bytes/call", "GFLOP/s", "GB/s", "ops"],
    ...s.kernels.map((r) => cells(r, elide(r.name), r.ops.join(","))),
    cells(s.total, "total", "FLOP and bytes of one step"),
  ];
  const widths = table[0]!.map((_, j) => Math.max(...table.map((row) => row[j]!.length)));
  // Names and ops left-aligned, numbers right-aligned; the last column unpadded.
  const line = (row: string[]) => row.map((c, j) => (j === row.length - 1 ? c : j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join("  ");
  return [...header, ...table.map(line)].join("\n") + "\n";
}
