// Checkpoints: a model's named tensors in one safetensors file, written
// atomically, and the check that a loaded checkpoint fits the model that is
// about to use it, naming the first parameter that does not.

import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { CheckpointError } from "./error.js";
import { decodeSafetensors, encodeSafetensors, formatShape, type TensorEntry } from "./safetensors.js";

export interface Checkpoint {
  readonly tensors: Map<string, TensorEntry>;
  readonly metadata: Record<string, string>;
}

export function saveCheckpoint(
  path: string,
  tensors: ReadonlyMap<string, TensorEntry>,
  metadata: Readonly<Record<string, string>>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read checkpoint (${e instanceof Error ? e.message : String(e)})`);
  }
  return decodeSafetensors(bytes, path);
}

/** A tensor the model expects; `dtype`, when given, must match too. */
export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype?: "F32" | "I32";
}

/**
 * Throws a CheckpointError naming the first tensor of `expected` (in its order)
 * that is missing from `loaded` or has another shape or dtype; then, the first
 * tensor of `loaded` that the model does not expect, unless its name starts with
 * one of `ignorePrefixes` (optimizer state, say, when only the weights matter).
 */
export function checkCompatible(
  loaded: ReadonlyMap<string, TensorEntry>,
  expected: readonly ExpectedTensor[],
  source: string,
  ignorePrefixes: readonly string[] = [],
): void {
  const fail = (problem: string) => new CheckpointError(`${source}: ${problem}`);
  for (const want of expected) {
    const name = JSON.stringify(want.name);
    const got = loaded.get(want.name);
    if (got === undefined) throw fail(`parameter ${name} is missing`);
    if (!sameShape(got.shape, want.shape)) {
      throw fail(`parameter ${name} has shape ${formatShape(got.shape)} in the checkpoint vs ${formatShape(want.shape)} in the model`);
    }
    if (want.dtype !== undefined && got.dtype !== want.dtype) {
      throw fail(`parameter ${name} has dtype ${got.dtype} in the checkpoint vs ${want.dtype} in the model`);
    }
  }
  const known = new Set(expected.map((e) => e.name));
  const extra = [...loaded.keys()].filter((n) => !known.has(n) && !ignorePrefixes.some((p) => n.startsWith(p)));
  if (extra.length > 0) {
    const more = extra.length > 1 ? ` (and ${extra.length - 1} more)` : "";
    throw fail(`tensor ${JSON.stringify(extra[0])} is not a parameter of the model${more}`);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Throws a CheckpointError naming the first tensor that holds NaN or an
 * infinity, and the index of its first such value: weights like that (a run
 * that diverged, a corrupted file) would otherwise predict NaN without a word.
 */
export function checkFinite(tensors: Iterable<readonly [string, Float32Array | Int32Array]>, source: string): void {
  for (const [name, data] of tensors) {
    if (data instanceof Int32Array) continue;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0) {
        throw new CheckpointError(`${source}: tensor ${JSON.stringify(name)} holds ${v} at index ${i} (of ${data.length}); expected finite weights (did the run that wrote it diverge?)`);
      }
    }
  }
}
