// Collects a profile as the backends run: each kernel call of the training
// step (the CPU's runs through CpuExecutable's onStep, WebGPU's dispatches
// through the backend's profiling), with what each kernel is, and the wall
// time of each step. Calls before start() (a warm-up, auto's measurement)
// and runs of other programs (entry points) are not kept.

import type { StepTiming } from "../cpu/executable.js";
import type { DimEnv } from "../program/dim.js";
import type { GpuProgram } from "../program/gpu.js";
import type { EntryProgram } from "../program/model.js";
import type { DispatchTiming, GpuProfiling, GpuTimingMethod } from "../webgpu/timing.js";
import { cpuKernel, gpuKernel, type KernelCost } from "./kernels.js";

/** How kernel times were measured: the CPU's clock around each run, or WebGPU's timestamps or per-dispatch waits. */
export type TimingMethod = "wall-clock" | GpuTimingMethod;

/** One call of a kernel: in which profiled step (from 0), when (performance.now()) and for how long. */
export interface KernelCall {
  readonly kernel: number;
  readonly step: number;
  readonly start: number;
  readonly ms: number;
}

/** A profiled training step on the host clock: from its start until its results were back. */
export interface StepSpan {
  readonly start: number;
  readonly ms: number;
}

/** What a backend needs to be profiled (runtime/backends.ts passes it on). */
export interface BackendProfiling {
  /** The CPU's hook: every run of a plan. */
  readonly onStep: (timing: StepTiming) => void;
  /** Whether WebGPU may time by timestamp queries where the adapter has them (else it times per dispatch). */
  readonly timestampQuery: boolean;
  /** WebGPU's hook, for the method the device allows. */
  gpu(method: GpuTimingMethod): GpuProfiling;
}

export class KernelRecorder implements BackendProfiling {
  /** Kernels in the order of their first call. */
  readonly kernels: KernelCost[] = [];
  readonly calls: KernelCall[] = [];
  readonly steps: StepSpan[] = [];
  /** WebGPU's method, once a device was profiled. */
  gpuMethod: GpuTimingMethod | undefined;
  private readonly byKey = new Map<string, number>();
  private recording = false;

  constructor(
    /** The training step whose kernels are recorded. */
    private readonly entry: EntryProgram,
    readonly timestampQuery = true,
  ) {}

  /** Keeps the calls from now on. */
  start(): void {
    this.recording = true;
  }

  /** Closes a profiled step: the calls since the last one are its. */
  endStep(start: number, ms: number): void {
    if (this.recording) this.steps.push({ start, ms });
  }

  private call(key: string, describe: () => KernelCost, start: number, ms: number): void {
    if (!this.recording) return;
    let k = this.byKey.get(key);
    if (k === undefined) {
      this.byKey.set(key, (k = this.kernels.length));
      this.kernels.push(describe());
    }
    this.calls.push({ kernel: k, step: this.steps.length, start, ms });
  }

  readonly onStep = (t: StepTiming): void => {
    if (!this.recording || t.program !== this.entry.cpu) return;
    this.call(`cpu ${t.node}`, () => ({ ...cpuKernel(t.program, t.shapes, t.steps), engine: t.engine }), t.start, t.ms);
  };

  gpu(method: GpuTimingMethod): GpuProfiling {
    this.gpuMethod = method;
    return {
      method,
      report: (program: GpuProgram, env: DimEnv, shapes: readonly (readonly number[])[], timings: readonly DispatchTiming[]) => {
        // The backend runs the step's program with its kernel family chosen: a copy over the same graph.
        if (program.graph !== this.entry.gpu?.graph) return;
        for (const d of timings) this.call(`gpu ${d.kernel}`, () => gpuKernel(program, d.kernel, shapes, env), d.start, d.ms);
      },
    };
  }
}
