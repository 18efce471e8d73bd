// Checkpoints: a model's named tensors in one safetensors file (file.ts
// writes them atomically; this module works on bytes, in Node and in a
// browser), and the check that a loaded checkpoint fits the model that is
// about to use it, naming the first parameter that does not.
//
// A checkpoint may carry the SHA-256 of each tensor's bytes in its metadata
// (`tensor_sha256`, a JSON object of name -> hex digest; `withDigests` adds
// it). Loading verifies them when they are there, so a flipped byte in a
// tensor is one line naming the file and the tensor, not weights that are
// silently wrong. Files without them (older checkpoints, other writers) load
// unverified.

import { sha256Hex } from "../sha256.js";
import { CheckpointError } from "./error.js";
import { decodeSafetensors, formatShape, type TensorEntry } from "./safetensors.js";

/** The metadata key holding the per-tensor digests. */
export const TENSOR_SHA256 = "tensor_sha256";

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The SHA-256 of a tensor's data as the file stores it (little-endian), in hex. */
export function tensorDigest(entry: TensorEntry): string {
  const bytes = new Uint8Array(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
  if (LITTLE_ENDIAN_HOST) return sha256Hex(bytes);
  const le = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) for (let k = 0; k < 4; k++) le[i + k] = bytes[i + 3 - k]!;
  return sha256Hex(le);
}

/** `metadata` with the digest of every tensor added. */
export function withDigests(tensors: ReadonlyMap<string, TensorEntry>, metadata: Readonly<Record<string, string>>): Record<string, string> {
  const digests = Object.fromEntries([...tensors].map(([name, entry]) => [name, tensorDigest(entry)]));
  return { ...metadata, [TENSOR_SHA256]: JSON.stringify(digests) };
}

/** Throws a CheckpointError naming the first tensor whose bytes do not match its recorded digest. */
export function verifyDigests(checkpoint: Checkpoint, source: string): void {
  const text = checkpoint.metadata[TENSOR_SHA256];
  if (text === undefined) return;
  let digests: unknown;
  try {
    digests = JSON.parse(text);
  } catch {
    digests = undefined;
  }
  if (typeof digests !== "object" || digests === null || Array.isArray(digests) || !Object.values(digests).every((d) => typeof d === "string")) {
    throw new CheckpointError(`${source}: metadata '${TENSOR_SHA256}' is not a JSON object of tensor digests; the file is corrupted`);
  }
  const recorded = new Map(Object.entries(digests as Record<string, string>));
  for (const [name, entry] of checkpoint.tensors) {
    const want = recorded.get(name);
    if (want === undefined) throw new CheckpointError(`${source}: tensor ${JSON.stringify(name)} has no recorded checksum; the file was altered after it was written`);
    const got = tensorDigest(entry);
    if (got !== want) {
      throw new CheckpointError(`${source}: tensor ${JSON.stringify(name)} does not match its checksum (sha256 ${got.slice(0, 12)}, recorded ${want.slice(0, 12)}); the file is corrupted`);
    }
  }
  for (const name of recorded.keys()) {
    if (!checkpoint.tensors.has(name)) throw new CheckpointError(`${source}: tensor ${JSON.stringify(name)} is recorded in the checksums but missing from the file; the file was altered after it was written`);
  }
}

export interface Checkpoint {
  readonly tensors: Map<string, TensorEntry>;
  readonly metadata: Record<string, string>;
}

/** A checkpoint's bytes, decoded and its digests verified (file.ts reads and writes the files). */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const checkpoint = decodeSafetensors(bytes, source);
  verifyDigests(checkpoint, source);
  return checkpoint;
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
