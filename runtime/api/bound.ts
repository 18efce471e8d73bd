// A model bound to a backend: its entry points as async functions of
// tensors, its parameters by name, one optimizer step, the training loop
// (`fit`), evaluation, and the gradient of a scalar entry point, all run by
// the compiled kernels of that backend. It is a training session
// (runtime/train/session.ts) with a friendlier face: `session` is there for
// everything else in dlc/runtime (trainEpochs, saveSession, predict).

import { readCheckpoint, saveSession } from "../train/checkpoint-file.js";
import { learningRate } from "../optim/schedule.js";
import { entryOf, gradEntryName, gradOutputName, type EntryProgram, type ModelProgram } from "../program/model.js";
import type { Backend } from "../train/backend.js";
import { labelInput, type Metrics } from "../train/metrics.js";
import { predict as predictRows } from "../train/predict.js";
import type { Session } from "../train/session.js";
import { datasetOf, evaluationData, fitData, type DataSource } from "./data.js";
import { ArgumentError } from "./errors.js";
import { evaluateDataset, featureInput, fitDatasets, type FitOptions, type FitResult } from "./fit.js";
import { describe, fromNDArray, toNDArray, type Tensor, type TensorInput } from "./tensor.js";
import type { NDArray } from "../cpu/ndarray.js";

/** An entry point as a function: its inputs in declaration order, its output as a tensor. */
export type EntryFunction = (...inputs: TensorInput[]) => Promise<Tensor>;

export interface Gradients {
  /** d value / d parameter, for every trainable parameter the entry reads, by name. */
  readonly params: Record<string, Tensor>;
  /** d value / d input, for every f32 input of the entry point, by name. */
  readonly inputs: Record<string, Tensor>;
}

export interface ValueAndGrad {
  readonly value: number;
  readonly grads: Gradients;
}

export class BoundModel {
  /** Every entry point compiled (gradient entries aside), as a function of its inputs. */
  readonly entries: Readonly<Record<string, EntryFunction>>;
  private disposed = false;
  private stepsKept = 0;

  constructor(readonly session: Session) {
    const entries: Record<string, EntryFunction> = {};
    for (const e of this.program.entries) if (!isGradEntry(this.program, e)) entries[e.name] = (...inputs) => this.call(e, inputs);
    this.entries = entries;
  }

  get program(): ModelProgram {
    return this.session.model;
  }

  get backend(): Backend {
    return this.session.backend;
  }

  /** Runs an entry point (a gradient entry too) on named inputs; every output, by name. */
  async run(entry: string, inputs: Readonly<Record<string, TensorInput>>): Promise<Record<string, Tensor>> {
    const e = this.entry(entry);
    const extra = Object.keys(inputs).find((k) => !e.inputs.some((i) => i.name === k));
    if (extra !== undefined) throw new ArgumentError(`${entry}: '${extra}' is not one of its inputs (${e.inputs.map((i) => i.name).join(", ")})`);
    return this.execute(e, new Map(e.inputs.map((spec) => {
      const v = inputs[spec.name];
      if (v === undefined) throw new ArgumentError(`${entry}: input '${spec.name}' (${describe(spec)}) was not given`);
      return [spec.name, toNDArray(spec, v, `${entry}: input '${spec.name}'`)];
    })));
  }

  /** A scalar entry point's gradient with respect to the parameters and its f32 inputs (compiled with `grad`). */
  grad(entry: string): (...inputs: TensorInput[]) => Promise<Gradients> {
    const f = this.valueAndGrad(entry);
    return async (...inputs) => (await f(...inputs)).grads;
  }

  /** A scalar entry point's value and gradient, from one run of its gradient entry. */
  valueAndGrad(entry: string): (...inputs: TensorInput[]) => Promise<ValueAndGrad> {
    const e = this.entry(entry);
    const g = entryOf(this.program, gradEntryName(entry));
    if (!g) {
      const scalar = e.outputs.length === 1 && e.outputs[0]!.shape.length === 0 && e.outputs[0]!.dtype === "f32";
      throw new ArgumentError(
        scalar
          ? `'${entry}' was compiled without its gradient: compile with { grad: ["${entry}"] } (or grad: true), or \`dlc compile --grad ${entry}\``
          : `'${entry}' returns ${describe(e.outputs[0]!)}: only an entry point returning an f32 scalar has a gradient`,
      );
    }
    const params = this.program.params.filter((p) => p.trainable !== false).map((p) => p.name);
    const wrt = e.inputs.filter((i) => i.dtype === "f32").map((i) => i.name);
    return async (...inputs) => {
      const out = await this.execute(g, this.positional(g, inputs));
      const pick = (names: string[]) => Object.fromEntries(names.filter((n) => out[gradOutputName(n)]).map((n) => [n, out[gradOutputName(n)]!]));
      return { value: out[e.outputs[0]!.name]!.data[0]!, grads: { params: pick(params), inputs: pick(wrt) } };
    };
  }

  /** Every parameter's current value, by name. */
  async params(): Promise<Record<string, Tensor>> {
    const values = await this.backend.read();
    return Object.fromEntries(this.program.params.map((p) => [p.name, { shape: [...p.shape], dtype: "f32" as const, data: values.get(p.name)! }]));
  }

  async getParam(name: string): Promise<Tensor> {
    const p = this.param(name);
    return { shape: [...p.shape], dtype: "f32", data: (await this.backend.read()).get(name)! };
  }

  async setParam(name: string, value: TensorInput): Promise<void> {
    await this.setParams({ [name]: value });
  }

  /** Sets parameters by name (the others keep their values). */
  async setParams(values: Readonly<Record<string, TensorInput>>): Promise<void> {
    const arrays = new Map<string, Float32Array>();
    for (const [name, v] of Object.entries(values)) {
      const p = this.param(name);
      arrays.set(name, toNDArray({ name, dtype: "f32", shape: p.shape }, v, `parameter '${name}'`).data as Float32Array);
    }
    await this.backend.load(arrays);
  }

  /**
   * One optimizer step on a batch of `loss`'s inputs, at the schedule's
   * learning rate for this step (`lr` sets the base rate, `horizon` the steps
   * a schedule spans); returns the batch's loss.
   */
  async step(feeds: Readonly<Record<string, TensorInput>>, options: { lr?: number; horizon?: number } = {}): Promise<number> {
    const train = this.program.train;
    const loss = entryOf(this.program, "loss");
    if (!train || !loss) throw new ArgumentError("step needs a model compiled with its training step (a `loss` entry point)");
    const inputs = new Map<string, NDArray>();
    for (const spec of loss.inputs) {
      const v = feeds[spec.name];
      if (v === undefined) throw new ArgumentError(`step: input '${spec.name}' of loss (${describe(spec)}) was not given`);
      inputs.set(spec.name, toNDArray(spec, v, `step: input '${spec.name}'`));
    }
    const s = this.session;
    const base = options.lr ?? s.run?.lr ?? s.config.optimizer.lr;
    // Without a horizon (no fit yet, none given) a cosine schedule stays at its base rate.
    const lr = learningRate(s.config.optimizer.schedule, base, s.step, options.horizon ?? s.run?.horizon ?? 0);
    const value = await this.backend.step(inputs, lr, s.step + 1, true, s.config.seed);
    s.step++;
    // The backend keeps every step's loss for the training loop's epoch mean; steps taken here report their own.
    if (++this.stepsKept >= 1024) {
      await this.backend.takeLosses();
      this.stepsKept = 0;
    }
    return value!;
  }

  /** Trains for epochs over `data`: the loop `dlc train` runs (runtime/train/loop.ts), with callbacks instead of printing. */
  async fit(data: DataSource, options: FitOptions = {}): Promise<FitResult> {
    const { ds, test } = await fitData(this.session, data, options);
    return fitDatasets(this.session, ds, test, options);
  }

  /** The mean loss over `data`, and accuracy and a confusion matrix when `predict` gives classes, or MSE and MAE for a regression. */
  async evaluate(data: DataSource, options: { batch?: number; label?: string } = {}): Promise<Metrics> {
    return evaluateDataset(this.session, await evaluationData(this.session, data, options), options.batch);
  }

  /** `predict` over every row of `data` (normalized as in training), as `dlc predict` computes it. */
  async predict(data: DataSource, options: { batch?: number } = {}): Promise<Tensor> {
    const entry = entryOf(this.program, "predict");
    if (!entry) throw new ArgumentError("the model has no `predict` entry point");
    // As `dlc predict`: the label column is not an input of `predict`, and is dropped when the file has it.
    const run = this.session.run;
    const ignore = [labelInput(this.program)?.name, run?.label].filter((c): c is string => c !== undefined);
    const ds = await datasetOf(entry, data, { ignore, ...(run?.featureColumns ? { features: run.featureColumns } : {}) }, featureInput(this.session));
    const { values, width } = await predictRows(this.session, ds, options.batch);
    const rest = entry.outputs[0]!.shape.slice(1);
    const rowShape = rest.every((d) => typeof d === "number") ? (rest as number[]) : [width];
    return { shape: [ds.rows, ...rowShape], dtype: values instanceof Int32Array ? "i32" : "f32", data: values };
  }

  /** Writes a checkpoint (parameters, optimizer state, normalization, counters), as `dlc train --save`. */
  save(path: string): Promise<void> {
    return saveSession(this.session, path);
  }

  /** Loads a checkpoint of this model: its parameters, and with `withState` the optimizer state and counters, to continue training. */
  async load(path: string, options: { withState?: boolean } = {}): Promise<void> {
    const ckpt = readCheckpoint(this.program, path, options.withState === true);
    await this.backend.load(ckpt.values);
    this.session.norm = ckpt.norm;
    if (options.withState) {
      this.session.epoch = ckpt.epoch;
      this.session.step = ckpt.step;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.backend.dispose();
  }

  private entry(name: string): EntryProgram {
    const e = entryOf(this.program, name);
    if (!e) throw new ArgumentError(`the model has no entry point '${name}' (it has ${this.program.entries.map((x) => x.name).join(", ")})`);
    return e;
  }

  private param(name: string) {
    const p = this.program.params.find((x) => x.name === name);
    if (!p) throw new ArgumentError(`the model has no parameter '${name}' (it has ${this.program.params.map((x) => x.name).join(", ")})`);
    return p;
  }

  private positional(e: EntryProgram, inputs: readonly TensorInput[]): Map<string, NDArray> {
    if (inputs.length !== e.inputs.length) {
      throw new ArgumentError(`${e.name} takes ${e.inputs.length} input${e.inputs.length === 1 ? "" : "s"} (${e.inputs.map((i) => `${i.name}: ${describe(i)}`).join(", ")}), got ${inputs.length}`);
    }
    return new Map(e.inputs.map((spec, k) => [spec.name, toNDArray(spec, inputs[k]!, `${e.name}: input '${spec.name}'`)]));
  }

  private async call(e: EntryProgram, inputs: readonly TensorInput[]): Promise<Tensor> {
    const out = await this.execute(e, this.positional(e, inputs));
    return out[e.outputs[0]!.name]!;
  }

  private async execute(e: EntryProgram, inputs: Map<string, NDArray>): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new ArgumentError("the model was disposed");
    const out = await this.backend.run(e.name, inputs);
    return Object.fromEntries(e.outputs.map((o) => [o.name, fromNDArray(out.get(o.name)!, o.dtype)]));
  }
}

function isGradEntry(model: ModelProgram, e: EntryProgram): boolean {
  return e.name.endsWith(".grad") && model.entries.some((x) => gradEntryName(x.name) === e.name);
}
