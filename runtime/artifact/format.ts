// The artifact file format (`dlc compile model.ts -o model.dlc`); see
// docs/artifact.md. One UTF-8 file of two lines:
//
//   line 1: the header, a JSON object
//           { "format": "dlc-artifact", "version": 1, "compiler": "dlc 0.1.0",
//             "payload_bytes": <n>, "sha256": "<hex digest of line 2's bytes>" }
//   line 2: the payload, a JSON object: the ModelProgram (parameters, entry
//           points with their CPU and WebGPU programs, the training step and
//           configuration) and the memory plans at the training batch size.
//
// Everything in it is data: WGSL is shader source for the GPU, and no field is
// ever evaluated as JavaScript.

import type { ModelProgram } from "../program/model.js";

export const ARTIFACT_FORMAT = "dlc-artifact";
export const ARTIFACT_VERSION = 1;

export interface ArtifactHeader {
  readonly format: typeof ARTIFACT_FORMAT;
  readonly version: number;
  /** The compiler that wrote it, e.g. "dlc 0.1.0". */
  readonly compiler: string;
  readonly payload_bytes: number;
  readonly sha256: string;
}

/** A planned buffer layout, for `dlc inspect`: slot sizes and each node's slot, at one batch size. */
export interface StoredMemoryPlan {
  readonly entry: string;
  readonly env: Readonly<Record<string, number>>;
  readonly slots: readonly number[];
  readonly slotOf: readonly (readonly [number, number])[];
  readonly peakBytes: number;
}

export interface ArtifactPayload {
  readonly model: ModelProgram;
  /** Whether the kernels were fused (false: --no-fusion). */
  readonly fusion: boolean;
  readonly memoryPlans: readonly StoredMemoryPlan[];
}

export class ArtifactError extends Error {}

/** JSON has no Infinity or NaN; the payload writes them as `{ "$number": "-Infinity" }` (a `where` mask's fill, say). */
export function encodeNumbers(_key: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v;
}

const NON_FINITE: Readonly<Record<string, number>> = { Infinity, "-Infinity": -Infinity, NaN };

/** The reviver of `encodeNumbers`: exactly those three spellings, nothing else. */
export function decodeNumbers(_key: string, v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  const n = (v as { $number?: unknown }).$number;
  return keys.length === 1 && typeof n === "string" && Object.hasOwn(NON_FINITE, n) ? NON_FINITE[n] : v;
}
