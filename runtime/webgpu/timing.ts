// Timing each dispatch of a WebGPU program, for profiles. Two ways:
// - "timestamp-query": the device writes a timestamp at the beginning and end
//   of each dispatch's compute pass (a profiled step records one pass per
//   dispatch, since a pass's timestamps bracket the whole pass); they are
//   resolved into a buffer and read back after the step;
// - "per-dispatch": where the adapter has no timestamps, each dispatch is
//   submitted alone and awaited, timed on the host clock (which includes the
//   submit and the wait, so it overstates short kernels).
// Neither changes what the kernels compute or the order they run in.

import type { DimEnv } from "../program/dim.js";
import type { GpuProgram } from "../program/gpu.js";

export type GpuTimingMethod = "timestamp-query" | "per-dispatch";

/** One kernel's dispatch in a step: when it started (performance.now()'s clock) and how long it ran. */
export interface DispatchTiming {
  readonly kernel: number;
  readonly start: number;
  readonly ms: number;
}

/** What a profiled WebGPU backend reports to: every step's dispatches of a program, at the plan's shapes. */
export interface GpuProfiling {
  readonly method: GpuTimingMethod;
  report(program: GpuProgram, env: DimEnv, shapes: readonly (readonly number[])[], timings: readonly DispatchTiming[]): void;
}

/** Two timestamps per kernel of a program: its pass's beginning and end, resolved and read back after a step. */
export class DispatchTimestamps {
  private readonly queries: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly staging: GPUBuffer;

  constructor(
    device: GPUDevice,
    private readonly kernels: number,
  ) {
    const count = Math.max(2, 2 * kernels);
    this.queries = device.createQuerySet({ type: "timestamp", count });
    this.resolved = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.staging = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** The pass descriptor of kernel k's dispatch. */
  pass(k: number): GPUComputePassDescriptor {
    return { timestampWrites: { querySet: this.queries, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } };
  }

  /** Records the copy of the step's timestamps to where read() maps them (after the passes). */
  resolve(encoder: GPUCommandEncoder): void {
    const count = Math.max(2, 2 * this.kernels);
    encoder.resolveQuerySet(this.queries, 0, count, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.staging, 0, count * 8);
  }

  /**
   * The dispatched kernels' timings, once the step submitted at `submitted`
   * (performance.now()) has run: device time, placed on the host clock from
   * the submit (the device's clock has its own origin).
   */
  async read(dispatched: readonly number[], submitted: number): Promise<DispatchTiming[]> {
    await this.staging.mapAsync(GPUMapMode.READ);
    const ticks = new BigInt64Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    if (!dispatched.length) return [];
    const origin = dispatched.reduce((a, k) => (ticks[2 * k]! < a ? ticks[2 * k]! : a), ticks[2 * dispatched[0]!]!);
    const ms = (ns: bigint) => Number(ns) / 1e6;
    // Some devices report an end before its beginning (clock domains of a pass's ends differ): a dispatch then took no measurable time.
    return dispatched.map((k) => ({ kernel: k, start: submitted + ms(ticks[2 * k]! - origin), ms: Math.max(0, ms(ticks[2 * k + 1]! - ticks[2 * k]!)) }));
  }

  destroy(): void {
    this.queries.destroy();
    this.resolved.destroy();
    this.staging.destroy();
  }
}
