// Reading an artifact file (Node): its bytes, parsed and checked by read.ts.

import { readFileSync } from "node:fs";
import type { ModelProgram } from "../program/model.js";
import { ArtifactError, type ArtifactPayload } from "./format.js";
import { parseArtifact } from "./read.js";

export function readArtifact(path: string): ArtifactPayload {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ArtifactError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  return parseArtifact(bytes, path);
}

/** The compiled model in an artifact, ready for a backend. */
export function loadArtifact(path: string): ModelProgram {
  return readArtifact(path).model;
}
