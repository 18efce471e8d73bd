// Saving and restoring a session as a safetensors checkpoint.
//
// Tensors: every parameter under its own name (the model's `param` names),
// the optimizer state under the names of the step's state inputs, the feature
// normalization under the ABI's two names for it (runtime/program/abi.ts
// spells all of them). Metadata: the format, the
// model's source hash and file, and the counters (epochs and steps done, seed)
// that let `--resume` continue exactly where the run stopped. Files are
// written atomically (temporary file, then rename).

import { basename } from "node:path";
import { checkCompatible, CheckpointError, loadCheckpoint, saveCheckpoint, type TensorEntry } from "../checkpoint/index.js";
import type { NormStats } from "../data/normalize.js";
import { AUXILIARY_PREFIXES, NORM_SCALE, NORM_SHIFT } from "../program/abi.js";
import type { ModelProgram } from "../program/model.js";
import type { Normalization } from "../program/train-config.js";
import type { Session } from "./session.js";

export const CHECKPOINT_FORMAT = "dlc-checkpoint/1";

export async function saveSession(session: Session, path: string): Promise<void> {
  const values = await session.backend.read();
  const tensors = new Map<string, TensorEntry>();
  for (const p of session.model.params) tensors.set(p.name, { dtype: "F32", shape: p.shape, data: values.get(p.name)! });
  for (const s of session.model.train?.state ?? []) tensors.set(s.name, { dtype: "F32", shape: s.shape, data: values.get(s.name)! });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    model: basename(session.model.file),
    model_hash: session.model.hash,
    epoch: String(session.epoch),
    step: String(session.step),
    seed: String(session.config.seed),
    optimizer: JSON.stringify(session.config.optimizer),
  };
  if (session.norm) {
    tensors.set(NORM_SHIFT, { dtype: "F32", shape: [session.norm.shift.length], data: session.norm.shift });
    tensors.set(NORM_SCALE, { dtype: "F32", shape: [session.norm.scale.length], data: session.norm.scale });
    metadata.norm_kind = session.norm.kind;
    metadata.norm_input = session.norm.input;
  }
  saveCheckpoint(path, tensors, metadata);
}

export interface LoadedWeights {
  readonly values: Map<string, Float32Array>;
  readonly norm: NormStats | undefined;
  readonly epoch: number;
  readonly step: number;
}

/**
 * Reads a checkpoint for `model`: every parameter must be there with its shape
 * (the first that is not is named), and with `withState` the optimizer state too.
 */
export function readCheckpoint(model: ModelProgram, path: string, withState: boolean): LoadedWeights {
  const ckpt = loadCheckpoint(path);
  if (ckpt.metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${path}: not a dlc checkpoint (format ${JSON.stringify(ckpt.metadata.format ?? "missing")}, expected ${CHECKPOINT_FORMAT})`);
  }
  const expected = model.params.map((p) => ({ name: p.name, shape: p.shape, dtype: "F32" as const }));
  if (withState) for (const s of model.train?.state ?? []) expected.push({ name: s.name, shape: s.shape, dtype: "F32" });
  checkCompatible(ckpt.tensors, expected, path, AUXILIARY_PREFIXES);
  const values = new Map(expected.map((e) => [e.name, ckpt.tensors.get(e.name)!.data as Float32Array]));
  const shift = ckpt.tensors.get(NORM_SHIFT);
  const scale = ckpt.tensors.get(NORM_SCALE);
  const norm =
    shift && scale && ckpt.metadata.norm_input
      ? { kind: (ckpt.metadata.norm_kind ?? "standard") as Normalization, input: ckpt.metadata.norm_input, shift: shift.data as Float32Array, scale: scale.data as Float32Array }
      : undefined;
  const counter = (key: string) => {
    const v = Number(ckpt.metadata[key] ?? "0");
    if (!Number.isInteger(v) || v < 0) throw new CheckpointError(`${path}: metadata '${key}' is ${JSON.stringify(ckpt.metadata[key])}, expected a count`);
    return v;
  };
  return { values, norm, epoch: counter("epoch"), step: counter("step") };
}
