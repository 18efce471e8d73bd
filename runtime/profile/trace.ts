// A profile in the Chrome trace event format, which Perfetto (ui.perfetto.dev)
// and chrome://tracing open: one complete event ("ph": "X") per profiled
// step, enclosing one per kernel call, on one track. Times are microseconds
// from the first profiled step's start.

import type { Profile } from "./profile.js";

export interface TraceEvent {
  readonly name: string;
  readonly cat?: string;
  readonly ph: "X" | "M";
  readonly ts?: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args: Record<string, unknown>;
}

export interface Trace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: "ms";
}

const PID = 1;
const TID = 1;

/** `title` names the process track (the model and the device). */
export function chromeTrace(p: Profile, title: string): Trace {
  const origin = p.steps[0]?.start ?? 0;
  const us = (ms: number) => Math.round((ms - origin) * 1000 * 1000) / 1000;
  const events: TraceEvent[] = [
    { name: "process_name", ph: "M", pid: PID, tid: TID, args: { name: title } },
    { name: "thread_name", ph: "M", pid: PID, tid: TID, args: { name: `training steps (${p.method})` } },
  ];
  p.steps.forEach((s, i) => {
    const calls = p.calls.filter((c) => c.step === i);
    // A step encloses its kernels even where the device's clock ran a little past the host's.
    const end = Math.max(s.start + s.ms, ...calls.map((c) => c.start + c.ms));
    events.push({ name: `step ${i + 1}`, cat: "step", ph: "X", ts: us(s.start), dur: us(end) - us(s.start), pid: PID, tid: TID, args: { step: p.warmup + i + 1, wall_ms: s.ms } });
    for (const c of calls) {
      const k = p.kernels[c.kernel]!;
      const start = Math.max(c.start, s.start);
      events.push({ name: k.name, cat: "kernel", ph: "X", ts: us(start), dur: Math.max(0, us(start + c.ms) - us(start)), pid: PID, tid: TID, args: { ops: k.ops.join(","), flops: k.flops, bytes: k.bytes } });
    }
  });
  return { traceEvents: events, displayTimeUnit: "ms" };
}
