// The contract between dlc's benchmarks and the libraries they compare dlc
// against (TensorFlow.js and jax-js, each on its CPU, Wasm and WebGPU
// backends). A peer builds each workload once, with its inputs created outside
// the timed part; a Runner's run() is one execution, finished: synchronized
// with the device, so that wall-clock time around it is the time of the work.
//
// The workloads, their shapes and constants are in workloads.ts; they compute
// exactly what dlc's own versions compute.

export type PeerBackend = "tfjs-cpu" | "tfjs-wasm" | "tfjs-webgpu" | "jax-wasm" | "jax-webgpu";
export type Micro = "gelu" | "softmax" | "layernorm" | "matmul" | "matmul-bias-relu" | "adam";
export type Model = "mlp" | "cnn";

export const PEER_BACKENDS: readonly PeerBackend[] = ["tfjs-cpu", "tfjs-wasm", "tfjs-webgpu", "jax-wasm", "jax-webgpu"];
export const MICROS: readonly Micro[] = ["gelu", "softmax", "layernorm", "matmul", "matmul-bias-relu", "adam"];

export interface Runner {
  /** One execution, finished (synchronized with the device). */
  run(): Promise<void>;
  dispose(): void;
}

export interface TrainingRunner extends Runner {
  /** The loss of the last step run (computed before that step's update); NaN before the first. */
  loss(): Promise<number>;
}

/** Training data: `rows` rows of 784 raw pixels (0..255, divided by 255 inside the model) and integer labels 0..9. */
export interface TrainingData {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly rows: number;
}

/** A host tensor, row-major. */
export interface HostTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export interface Peer {
  readonly backend: PeerBackend;
  /** The library, its version and backend, and what it runs on, e.g. "TensorFlow.js 4.22.0 webgpu on llvmpipe ...". */
  readonly description: string;
  /** The workload at its benchmark size, on random inputs created once. Throws Unavailable if this backend cannot run it. */
  micro(kind: Micro): Promise<Runner>;
  /**
   * One Adam training step per run(), on the next batch of `data` (batches of
   * `batch` consecutive rows, cycling, the last partial batch dropped).
   * Parameters start from dlc's own initializers (seed 0), so every peer
   * starts from the same weights. Throws Unavailable if this backend cannot train the model.
   */
  training(model: Model, batch: number, data: TrainingData): Promise<TrainingRunner>;
  /**
   * The workload on given (small) inputs through the same code path as micro(),
   * for correctness checks. Inputs and outputs in the order of workloads.ts
   * (adam: p, g, m, v and the step t as a scalar in, new p, m, v out).
   */
  compute(kind: Micro, inputs: readonly HostTensor[]): Promise<Float32Array[]>;
}

/** This backend cannot run this workload; `message` says why. Not a failure of the benchmark. */
export class Unavailable extends Error {
  override readonly name = "Unavailable";
}
