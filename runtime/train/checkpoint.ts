// Saving and restoring a session as a safetensors checkpoint.
//
// Tensors: every parameter under its own name (the model's `param` names),
// the optimizer state under the names of the step's state inputs, the feature
// normalization under the ABI's two names for it (runtime/program/abi.ts
// spells all of them). Metadata: the format, the model's source hash and
// file, the counters (epochs and steps done), the run's settings (seed,
// batch, drop-last, base learning rate, normalization, split, label, feature
// column names, and the plan: epochs and schedule horizon) that let `--resume`
// continue exactly where the run stopped, and a SHA-256 per tensor. Files are
// written atomically (temporary file, then rename).
//
// Reading checks, in order: the format, the tensors' checksums, that every
// parameter fits the model (naming the first that does not), and that the
// model is the one that wrote the checkpoint (its source hash): same shapes
// are not the same model. Settings a checkpoint predates read as unknown, and
// the caller falls back to what it did before they were recorded.
//
// This module works on bytes (a browser downloads and uploads them);
// checkpoint-file.ts reads and writes the files.

import { checkCompatible, decodeCheckpoint, withDigests, type Checkpoint } from "../checkpoint/checkpoint.js";
import { CheckpointError } from "../checkpoint/error.js";
import { encodeSafetensors, type TensorEntry } from "../checkpoint/safetensors.js";
import { fileName } from "../path-name.js";
import type { NormStats } from "../data/normalize.js";
import { AUXILIARY_PREFIXES, NORM_SCALE, NORM_SHIFT } from "../program/abi.js";
import type { ModelProgram } from "../program/model.js";
import type { Normalization } from "../program/train-config.js";
import type { RunSettings, Session } from "./session.js";

export const CHECKPOINT_FORMAT = "dlc-checkpoint/1";

/** The session as a checkpoint's bytes (safetensors): what `dlc train --save` writes. */
export async function encodeSession(session: Session): Promise<Uint8Array> {
  const values = await session.backend.read();
  const tensors = new Map<string, TensorEntry>();
  for (const p of session.model.params) tensors.set(p.name, { dtype: "F32", shape: p.shape, data: values.get(p.name)! });
  for (const s of session.model.train?.state ?? []) tensors.set(s.name, { dtype: "F32", shape: s.shape, data: values.get(s.name)! });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    model: fileName(session.model.file),
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
  const run = session.run;
  if (run) {
    Object.assign(metadata, {
      batch: String(run.batch),
      drop_last: String(run.dropLast),
      lr: String(run.lr),
      normalize: run.normalize,
      split: JSON.stringify(run.split ?? null),
      label: JSON.stringify(run.label ?? null),
      feature_columns: JSON.stringify(run.featureColumns ?? null),
      plan_epochs: String(run.epochs),
      horizon_steps: String(run.horizon),
    });
  }
  return encodeSafetensors(tensors, withDigests(tensors, metadata));
}

/**
 * The run settings a checkpoint records: a field is undefined when the
 * checkpoint predates it, null when it was recorded as absent (no split).
 */
export interface StoredSettings {
  readonly seed?: number;
  readonly batch?: number;
  readonly dropLast?: boolean;
  readonly lr?: number;
  readonly normalize?: Normalization;
  readonly split?: RunSettings["split"] | null;
  readonly label?: string | null;
  readonly featureColumns?: readonly string[] | null;
  readonly epochs?: number;
  readonly horizon?: number;
}

export interface LoadedWeights {
  readonly values: Map<string, Float32Array>;
  readonly norm: NormStats | undefined;
  readonly epoch: number;
  readonly step: number;
  readonly settings: StoredSettings;
}

/** A checkpoint's bytes for `model` (`source` names them in errors): decodeWeights of decodeCheckpoint. */
export function decodeWeights(model: ModelProgram, bytes: Uint8Array, source: string, withState: boolean): LoadedWeights {
  return weightsOf(model, decodeCheckpoint(bytes, source), source, withState);
}

/**
 * A checkpoint's weights for `model`: every parameter must be there with its
 * shape (the first that is not is named), and with `withState` the optimizer
 * state too. `path` names the checkpoint in errors.
 */
export function weightsOf(model: ModelProgram, ckpt: Checkpoint, path: string, withState: boolean): LoadedWeights {
  if (ckpt.metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${path}: not a dlc checkpoint (format ${JSON.stringify(ckpt.metadata.format ?? "missing")}, expected ${CHECKPOINT_FORMAT})`);
  }
  const expected = model.params.map((p) => ({ name: p.name, shape: p.shape, dtype: "F32" as const }));
  if (withState) for (const s of model.train?.state ?? []) expected.push({ name: s.name, shape: s.shape, dtype: "F32" });
  checkCompatible(ckpt.tensors, expected, path, AUXILIARY_PREFIXES);
  checkModel(ckpt.metadata, model, path);
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
  return { values, norm, epoch: counter("epoch"), step: counter("step"), settings: storedSettings(ckpt.metadata, path, norm) };
}

const short = (hash: string) => hash.slice(0, 12);

/** A checkpoint belongs to the model whose source hash it records (checkpoints that record none are not checked). */
function checkModel(metadata: Record<string, string>, model: ModelProgram, path: string): void {
  const hash = metadata.model_hash;
  if (hash === undefined || hash === model.hash) return;
  const theirs = metadata.model === undefined ? "another model" : `model '${metadata.model}'`;
  throw new CheckpointError(
    `${path}: the checkpoint is of ${theirs} (source hash ${short(hash)}), not of '${fileName(model.file)}' (source hash ${short(model.hash)}); weights fit only the model that trained them`,
  );
}

function storedSettings(m: Record<string, string>, path: string, norm: NormStats | undefined): StoredSettings {
  const bad = (key: string, expected: string): never => {
    throw new CheckpointError(`${path}: metadata '${key}' is ${JSON.stringify(m[key])}, expected ${expected}`);
  };
  const read = <T>(key: string, parse: (text: string) => T | undefined, expected: string): T | undefined => {
    const text = m[key];
    if (text === undefined) return undefined;
    const v = parse(text);
    return v === undefined ? bad(key, expected) : v;
  };
  const json = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  const count = (min: number) => (text: string) => {
    const v = Number(text);
    return Number.isSafeInteger(v) && v >= min && text.trim() !== "" ? v : undefined;
  };
  const normalize = read("normalize", (t) => (t === "standard" || t === "minmax" || t === "none" ? t : undefined), "standard, minmax or none") ?? (norm ? norm.kind : undefined);
  const out: { -readonly [K in keyof StoredSettings]: StoredSettings[K] } = {
    seed: read("seed", count(0), "a non-negative integer"),
    batch: read("batch", count(1), "a positive integer"),
    dropLast: read("drop_last", (t) => (t === "true" ? true : t === "false" ? false : undefined), "true or false"),
    lr: read("lr", (t) => (Number.isFinite(Number(t)) && Number(t) > 0 ? Number(t) : undefined), "a positive number"),
    normalize,
    split: read(
      "split",
      (t) => {
        const v = json(t) as { fraction?: unknown; rows?: unknown } | null | undefined;
        if (v === null) return null;
        const ok = typeof v === "object" && typeof v.fraction === "number" && v.fraction > 0 && v.fraction < 1 && Number.isSafeInteger(v.rows);
        return ok ? { fraction: v.fraction as number, rows: v.rows as number } : undefined;
      },
      'null or {"fraction", "rows"}',
    ),
    label: read("label", (t) => {
      const v = json(t);
      return v === null || typeof v === "string" ? v : undefined;
    }, "null or a JSON string"),
    featureColumns: read("feature_columns", (t) => {
      const v = json(t);
      return v === null || (Array.isArray(v) && v.every((c) => typeof c === "string")) ? (v as string[] | null) : undefined;
    }, "null or a JSON list of column names"),
    epochs: read("plan_epochs", count(0), "a count"),
    horizon: read("horizon_steps", count(0), "a count"),
  };
  for (const k of Object.keys(out) as (keyof StoredSettings)[]) if (out[k] === undefined) delete out[k];
  return out;
}
