// `dlc eval` and `dlc predict`: a model with trained weights, on a data set.

import { NORM_SCALE, NORM_SHIFT } from "../runtime/program/abi.js";
import { writeFileAtomic } from "../runtime/checkpoint/atomic.js";
import { checkFinite } from "../runtime/checkpoint/checkpoint.js";
import { entryOf, type ModelProgram } from "../runtime/program/model.js";
import { readCheckpoint } from "../runtime/train/checkpoint-file.js";
import { evaluate, labelInput } from "../runtime/train/metrics.js";
import { predict as predictRows } from "../runtime/train/predict.js";
import type { Session } from "../runtime/train/session.js";
import { machineThreads, openBackend, type BackendChoice, type KernelChoice } from "./backend.js";
import { allRows, normalize } from "../runtime/train/data.js";
import { loadFor } from "../runtime/train/load.js";
import { UsageError } from "./exit.js";
import { loadModel } from "./model.js";
import { checkOutputs, named } from "./outputs.js";
import { metricsText } from "./report.js";
import { printable } from "./terminal.js";

export interface WeightsOptions {
  weights: string;
  data: string;
  label?: string;
  batch: number;
  backend: BackendChoice;
  kernels: KernelChoice;
  threads?: number;
  fusion: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** How the checkpoint's data binds: its label column (unless --label names one) and its feature columns by name. */
interface Binding {
  readonly label: string | undefined;
  readonly features: readonly string[] | undefined;
}

async function withWeights<T>(file: string, o: WeightsOptions, f: (session: Session, model: ModelProgram, binding: Binding) => Promise<T>): Promise<T> {
  const model = await loadModel(file, { fusion: o.fusion, webgpu: !o.backend.startsWith("cpu") });
  const ckpt = readCheckpoint(model, o.weights, false);
  checkFinite([...ckpt.values, ...(ckpt.norm ? ([[NORM_SHIFT, ckpt.norm.shift], [NORM_SCALE, ckpt.norm.scale]] as const) : [])], o.weights);
  const backend = await openBackend(model, o.backend, { batch: o.batch, threads: o.threads ?? machineThreads(), kernels: o.kernels });
  try {
    await backend.load(ckpt.values);
    const session: Session = { model, backend, config: { optimizer: { kind: "sgd", lr: 0, schedule: { kind: "constant" } }, batch: o.batch, epochs: 0, seed: 0 }, epoch: ckpt.epoch, step: ckpt.step, norm: ckpt.norm };
    const stored = ckpt.settings;
    return await f(session, model, { label: o.label ?? stored.label ?? undefined, features: stored.featureColumns ?? undefined });
  } finally {
    backend.dispose();
  }
}

export async function runEval(file: string, o: WeightsOptions): Promise<void> {
  await withWeights(file, o, async (session, model, { label, features }) => {
    const loss = entryOf(model, "loss");
    if (!loss) throw new UsageError("the model has no `loss` entry point to evaluate");
    const ds = normalize(await loadFor(loss, o.data, { ...(label === undefined ? {} : { label }), ...(features === undefined ? {} : { features }) }), session.norm);
    const m = await evaluate(session, ds, allRows(ds), o.batch);
    if (o.json) process.stdout.write(JSON.stringify({ backend: session.backend.kind, examples: m.examples, ...prefixed(m) }) + "\n");
    else process.stdout.write(`${m.examples} examples  ${metricsText(m, "")}\n`);
  });
}

function prefixed(m: object): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([k]) => k !== "examples"));
}

export async function runPredict(file: string, o: WeightsOptions & { out: string }): Promise<void> {
  checkOutputs([named("--out", o.out)], [named("the model", file), named("--data", o.data), named("--weights", o.weights)]);
  await withWeights(file, o, async (session, model, { label, features }) => {
    const predict = entryOf(model, "predict");
    if (!predict) throw new UsageError("the model has no `predict` entry point");
    const target = labelInput(model);
    // The label column is not an input of `predict`: dropped when present. Normalized by predictRows, with the checkpoint's statistics.
    const ignore = [...(target ? [target.name] : []), ...(label !== undefined ? [label] : [])];
    const ds = await loadFor(predict, o.data, { ignore, ...(features === undefined ? {} : { features }) });
    const { values, width, output } = await predictRows(session, ds, o.batch);
    const lines: string[] = [];
    const dtype = predict.outputs[0]!.dtype;
    for (let r = 0; r < ds.rows; r++) lines.push(Array.from(values.subarray(r * width, (r + 1) * width), (v) => (dtype === "i32" ? String(v) : String(Math.fround(v)))).join(","));
    // The output's name comes from the model (an artifact, perhaps): no control characters in the header.
    const name = printable(output);
    const header = width === 1 ? name : Array.from({ length: width }, (_, i) => `${name}_${i}`).join(",");
    const text = [header, ...lines].join("\n") + "\n";
    if (o.out === "-") process.stdout.write(text);
    else writeFileAtomic(o.out, new TextEncoder().encode(text));
    if (o.json) process.stdout.write(JSON.stringify({ backend: session.backend.kind, rows: lines.length, out: o.out }) + "\n");
    else if (!o.quiet && o.out !== "-") process.stderr.write(`dlc: wrote ${lines.length} predictions to ${printable(o.out)}\n`);
  });
}
