// What the page (web/app.ts) and the Web Worker that trains for it
// (web/trainer.ts) say to each other: commands from the page, reports from
// the worker, all structured-cloneable plain data (a picked File and the
// weights' bytes included). The worker owns the model, the data and the
// session; the page draws what it is told and never waits on the training.

import type { PageConfig } from "../cli/serve-protocol.js";
import type { BackendChoice, BackendKind, Metrics } from "../runtime/browser.js";

/** Where the page is: #status's data-state. */
export type PageState = "loading" | "ready" | "busy" | "done" | "error";

/** The backend the form asks for; threads count only on the CPU (WebAssembly). */
export interface BackendRequest {
  readonly backend: BackendChoice;
  readonly threads: number;
}

export interface TrainRequest extends BackendRequest {
  readonly epochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly split: number;
  readonly seed: number;
  readonly normalize: "none" | "standard" | "minmax";
}

export type Command =
  /** Load the served model (and data, and weights: evaluated with `request`). */
  | { readonly kind: "open"; readonly request: BackendRequest }
  /** Bind a file the user picked (evaluating served weights on it). */
  | { readonly kind: "data"; readonly file: File; readonly request: BackendRequest }
  | { readonly kind: "train"; readonly request: TrainRequest }
  /** Stop training at the next step: the worker yields between steps to hear it. */
  | { readonly kind: "stop" }
  /** The session's weights, as a safetensors checkpoint. */
  | { readonly kind: "weights" };

/** What the page shows of the model, and the form's defaults (its `train` settings). */
export interface ModelInfo {
  readonly config: PageConfig;
  readonly summary: string;
  /** Whether the model has a training step. */
  readonly trainable: boolean;
  /** Whether its label is a regression target (the second chart then shows the MSE). */
  readonly regression: boolean;
  readonly defaults?: { readonly epochs: number; readonly batch: number; readonly lr: number; readonly seed: number; readonly normalize: string };
}

/** The backend a session runs on: #status's data-backend, data-threads, data-jobs and data-splits. */
export interface BackendInfo {
  readonly kind: BackendKind;
  /** For people, with why it was chosen. */
  readonly description: string;
  /** Threads of the CPU backend's products (1 on WebGPU). */
  readonly threads: number;
  /** Jobs the CPU backend's worker pool has run, module loads included (0 without one). */
  readonly jobs: number;
  /** Matrix products split across the threads so far: how a test sees the threads shared the work. */
  readonly splits: number;
}

/** The predictions table, computed by the worker (it has the data), drawn by the page. */
export interface PredictionTable {
  readonly head: readonly string[];
  /** Each row's index in the data (from 0), its cells, and whether the class predicted is wrong. */
  readonly rows: readonly { readonly row: number; readonly cells: readonly string[]; readonly wrong: boolean }[];
  readonly summary: string;
}

export type Report =
  | { readonly kind: "model"; readonly model: ModelInfo }
  | { readonly kind: "data"; readonly summary: string }
  | { readonly kind: "status"; readonly state: PageState; readonly text: string; readonly backend?: BackendInfo }
  /** The fraction of the run's steps done. */
  | { readonly kind: "progress"; readonly fraction: number }
  /** An epoch's end: the charts' points (`quality`: test accuracy, or MSE for regression) and a line for people. */
  | { readonly kind: "epoch"; readonly epoch: number; readonly trainLoss: number; readonly testLoss?: number; readonly quality?: number; readonly text: string }
  | { readonly kind: "results"; readonly metrics: Metrics; readonly text: string; readonly predictions: PredictionTable }
  | { readonly kind: "weights"; readonly bytes: Uint8Array; readonly name: string };
