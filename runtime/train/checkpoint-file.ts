// Checkpoint files of a session (Node): checkpoint.ts's bytes, written
// atomically (a temporary file, then a rename) and read back.

import { writeFileAtomic } from "../checkpoint/atomic.js";
import { loadCheckpoint } from "../checkpoint/file.js";
import type { ModelProgram } from "../program/model.js";
import { encodeSession, weightsOf, type LoadedWeights } from "./checkpoint.js";
import type { Session } from "./session.js";

/** Writes the session's checkpoint to `path`: what `dlc train --save` does after every epoch. */
export async function saveSession(session: Session, path: string): Promise<void> {
  writeFileAtomic(path, await encodeSession(session));
}

/** Reads the checkpoint at `path` for `model` (see weightsOf). */
export function readCheckpoint(model: ModelProgram, path: string, withState: boolean): LoadedWeights {
  return weightsOf(model, loadCheckpoint(path), path, withState);
}
