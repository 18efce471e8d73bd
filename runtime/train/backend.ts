// What the training loop needs from a device: somewhere to keep the
// parameters and optimizer state, a training step, and the entry points.
// The CPU interpreter and WebGPU each implement it.

import type { NDArray } from "../cpu/ndarray.js";

export type BackendKind = "cpu" | "webgpu";

export interface Backend {
  readonly kind: BackendKind;
  /** What it runs on, for people: "CPU (WebAssembly SIMD128, float32)", an adapter's description. */
  readonly description: string;
  /** Sets parameter and optimizer-state values (by checkpoint name). */
  load(values: ReadonlyMap<string, Float32Array>): Promise<void>;
  /** Reads every parameter and state value back. */
  read(): Promise<Map<string, Float32Array>>;
  /**
   * One optimizer step on a batch, at learning rate `lr` and step number `t`
   * (from 1). Returns the batch's loss when `wantLoss`, else undefined (a
   * device need not read it back every step). A step that draws random
   * numbers (dropout) is keyed by the run's `seed` and t (abi.ts stepKey).
   */
  step(inputs: ReadonlyMap<string, NDArray>, lr: number, t: number, wantLoss: boolean, seed?: number): Promise<number | undefined>;
  /**
   * The loss of every step run since the last call, in order, and forgets
   * them. Each step keeps its loss where it ran (WebGPU: copied into a device
   * buffer, no readback), so an epoch's mean and the first non-finite step are
   * exact however rarely `step` reads the loss back.
   */
  takeLosses(): Promise<Float32Array>;
  /** Runs an entry point with the current parameters. The result is valid until the next call. */
  run(entry: string, inputs: ReadonlyMap<string, NDArray>): Promise<Map<string, NDArray>>;
  dispose(): void;
}
