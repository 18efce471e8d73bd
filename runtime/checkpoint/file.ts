// Checkpoint files (Node): written atomically, read and verified by checkpoint.ts.

import { readFileSync } from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { decodeCheckpoint, type Checkpoint } from "./checkpoint.js";
import { CheckpointError } from "./error.js";
import { encodeSafetensors, type TensorEntry } from "./safetensors.js";

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
  return decodeCheckpoint(bytes, path);
}

