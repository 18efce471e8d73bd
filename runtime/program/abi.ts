// The training ABI: what each input and output of the training step is for.
//
// The compiler appends the optimizer to the training graph and records, beside
// the step program, one typed binding per step input (a data input, a
// hyperparameter, or a state tensor of one parameter's optimizer) and per step
// output (the loss, a parameter's updated value, a state tensor's updated
// value). Both backends and the checkpoint code read these records; none of
// them builds or parses a tensor name. This module is the only place that
// knows how the names are spelled, and the spelling is part of the file
// formats: checkpoints store the optimizer state and the feature
// normalization under these names, so they must not change.

import type { ParamSpec, StateSpec, TensorSpec, TrainProgram } from "./model.js";

/** The step's scalar hyperparameters: the learning rate (from the schedule) and t, counting from 1. */
export const HYPERS = ["lr", "step"] as const;
export type Hyper = (typeof HYPERS)[number];

export type StepInput =
  /** A batch tensor, bound by name like an entry point's input (CSV columns, labels). */
  | { readonly name: string; readonly role: "data" }
  /** An f32 scalar set by the runtime each step. */
  | { readonly name: string; readonly role: "hyper"; readonly hyper: Hyper }
  /** The optimizer state tensor of this name (`kind` is "m", "v", "velocity"...), kept for `param` between steps. */
  | { readonly name: string; readonly role: "state"; readonly param: string; readonly kind: string }
  /** The step's random key, an i32[2]: the run's seed and t (see stepKey). Only steps that draw random numbers (dropout) have it. */
  | { readonly name: string; readonly role: "key" };

export type StepOutput =
  | { readonly name: string; readonly role: "loss" }
  /** The new value of parameter `param`. */
  | { readonly name: string; readonly role: "param"; readonly param: string }
  /** The new value of the state tensor `state` (the name of a state input). */
  | { readonly name: string; readonly role: "state"; readonly state: string };

export interface TrainAbi {
  /** One binding per step input, in the step's input order. */
  readonly inputs: readonly StepInput[];
  /** One binding per step output, in the step's output order. */
  readonly outputs: readonly StepOutput[];
}

// The spelling of the names. Checkpoints and artifacts hold them: keep them.
const OPT = "opt/";
const NORM = "norm/";
const hyperName = (h: Hyper) => `${OPT}${h}`;
const stateName = (param: string, kind: string) => `${OPT}${kind}/${param}`;
const paramOutputName = (param: string) => `param/${param}`;
const stateOutputName = (state: string) => `state/${state}`;
const LOSS = "loss";
/** The name of the step's random key input; the frontend creates it on the first random draw of a training trace. */
export const KEY_INPUT = `${OPT}key`;

/**
 * The key of step t (from 1) of a run seeded with `seed`: what dropout's
 * counter-based generator is keyed with, so every backend draws the same
 * masks and a resumed run draws the masks of the uninterrupted one.
 */
export function stepKey(seed: number, t: number): Int32Array {
  return Int32Array.of(seed | 0, t | 0);
}

export interface AbiOptions {
  /** The step reads the random key. */
  readonly key?: boolean;
  /** Non-trainable parameters the step writes new values of (batch norm's running statistics). */
  readonly updated?: readonly string[];
}

/**
 * The ABI of a step over `data` inputs that updates `params` with an
 * optimizer keeping the state `kinds` per parameter: inputs are the data,
 * the random key if any, then the hyperparameters, then the state (parameter
 * by parameter); outputs the loss, the parameters (then the non-trainable
 * ones the step also writes), then the state in the same order.
 */
export function trainAbi(data: readonly string[], params: readonly string[], kinds: readonly string[], options: AbiOptions = {}): TrainAbi {
  const state = params.flatMap((param) => kinds.map((kind) => ({ name: stateName(param, kind), role: "state" as const, param, kind })));
  const key: StepInput[] = options.key ? [{ name: KEY_INPUT, role: "key" }] : [];
  return {
    inputs: [...data.map((name) => ({ name, role: "data" as const })), ...key, ...HYPERS.map((hyper) => ({ name: hyperName(hyper), role: "hyper" as const, hyper })), ...state],
    outputs: [
      { name: LOSS, role: "loss" },
      ...[...params, ...(options.updated ?? [])].map((param) => ({ name: paramOutputName(param), role: "param" as const, param })),
      ...state.map((s) => ({ name: stateOutputName(s.name), role: "state" as const, state: s.name })),
    ],
  };
}

export function inputsWith<R extends StepInput["role"]>(abi: TrainAbi, role: R): Extract<StepInput, { role: R }>[] {
  return abi.inputs.filter((b): b is Extract<StepInput, { role: R }> => b.role === role);
}

export function outputsWith<R extends StepOutput["role"]>(abi: TrainAbi, role: R): Extract<StepOutput, { role: R }>[] {
  return abi.outputs.filter((b): b is Extract<StepOutput, { role: R }> => b.role === role);
}

/** The name of the step's loss output. */
export function lossOutput(abi: TrainAbi): string {
  return outputsWith(abi, "loss")[0]!.name;
}

/** The parameter or state tensor an output replaces after the step; undefined for the loss. */
export function updatedBy(b: StepOutput): string | undefined {
  return b.role === "param" ? b.param : b.role === "state" ? b.state : undefined;
}

/** The feature normalization's tensors in a checkpoint. */
export const NORM_SHIFT = `${NORM}shift`;
export const NORM_SCALE = `${NORM}scale`;

/** The prefixes of checkpoint tensors that are not parameters (optimizer state, normalization): loading weights alone skips them. */
export const AUXILIARY_PREFIXES: readonly string[] = [OPT, NORM];

/**
 * The ABI of a step compiled before artifacts recorded it, recovered from its
 * names (version-1 artifacts without `train.abi`).
 */
export function abiFromNames(step: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] }, state: readonly StateSpec[], params: readonly string[]): TrainAbi {
  const stateByName = new Map(state.map((s) => [s.name, s]));
  const hyperByName = new Map(HYPERS.map((h) => [hyperName(h), h]));
  const updated = new Map<string, StepOutput>([
    [LOSS, { name: LOSS, role: "loss" }],
    ...params.map((param) => [paramOutputName(param), { name: paramOutputName(param), role: "param", param }] as const),
    ...state.map((s) => [stateOutputName(s.name), { name: stateOutputName(s.name), role: "state", state: s.name }] as const),
  ]);
  return {
    inputs: step.inputs.map(({ name }): StepInput => {
      const hyper = hyperByName.get(name);
      if (hyper) return { name, role: "hyper", hyper };
      const s = stateByName.get(name);
      if (s) return { name, role: "state", param: s.param, kind: name.slice(OPT.length, name.length - s.param.length - 1) };
      return { name, role: "data" };
    }),
    outputs: step.outputs.map(({ name }) => {
      const b = updated.get(name);
      if (!b) throw new Error(`the training step's output '${name}' is neither the loss, a parameter nor optimizer state`);
      return b;
    }),
  };
}

/**
 * Checks that a training step's ABI is consistent with the step and the
 * model: one binding per step input and output, by name and in order; each
 * hyperparameter once, as an f32 scalar; one loss, a scalar; every parameter
 * the step updates declared, with one output of its shape; every state tensor
 * declared, of its parameter's shape, read and written once. Throws an Error
 * naming the first binding that is not.
 */
export function checkTrainAbi(params: readonly ParamSpec[], train: TrainProgram, path = "train"): void {
  const { abi, step } = train;
  const fail = (at: string, what: string): never => {
    throw new Error(`${path}.abi.${at}: ${what}`);
  };
  const shapeOf = new Map(params.map((p) => [p.name, p.shape]));
  const stateOf = new Map(train.state.map((s) => [s.name, s]));
  const same = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const show = (s: readonly unknown[]) => `[${s.join(", ")}]`;
  const bound = (what: "inputs" | "outputs", specs: readonly TensorSpec[], bindings: readonly { name: string }[]) => {
    if (bindings.length !== specs.length) fail(what, `${bindings.length} bindings for the step's ${specs.length} ${what}`);
    bindings.forEach((b, i) => {
      if (b.name !== specs[i]!.name) fail(`${what}[${i}]`, `binds '${b.name}', but the step's ${what.slice(0, -1)} ${i} is '${specs[i]!.name}'`);
    });
  };
  const tensor = (at: string, spec: TensorSpec, shape: readonly number[], what: string) => {
    if (spec.dtype !== "f32" || !same(spec.shape, shape)) fail(at, `'${spec.name}' is ${spec.dtype}${show(spec.shape)}, ${what} is f32${show(shape)}`);
  };
  const once = (at: string, seen: Set<string>, key: string, what: string) => {
    if (seen.has(key)) fail(at, `${what} is bound twice`);
    seen.add(key);
  };

  bound("inputs", step.inputs, abi.inputs);
  bound("outputs", step.outputs, abi.outputs);
  const hypers = new Set<string>();
  const stateRead = new Set<string>();
  const keys = new Set<string>();
  abi.inputs.forEach((b, i) => {
    const at = `inputs[${i}]`;
    if (b.role === "key") {
      once(at, keys, "key", "the random key");
      const spec = step.inputs[i]!;
      if (spec.dtype !== "i32" || !same(spec.shape, [2])) fail(at, `'${spec.name}' is ${spec.dtype}${show(spec.shape)}, the random key is i32[2]`);
    } else if (b.role === "hyper") {
      once(at, hypers, b.hyper, `the hyperparameter '${b.hyper}'`);
      tensor(at, step.inputs[i]!, [], `the hyperparameter '${b.hyper}'`);
    } else if (b.role === "state") {
      const shape = shapeOf.get(b.param) ?? fail(at, `state of '${b.param}', which is not a parameter of the model`);
      const s = stateOf.get(b.name) ?? fail(at, `'${b.name}' is not an optimizer state tensor of the step`);
      if (s.param !== b.param) fail(at, `'${b.name}' is state of '${s.param}', the binding says '${b.param}'`);
      if (!same(s.shape, shape)) fail(at, `'${b.name}' has shape ${show(s.shape)}, its parameter '${b.param}' ${show(shape)}`);
      tensor(at, step.inputs[i]!, shape, `state of '${b.param}'`);
      once(at, stateRead, b.name, `the state '${b.name}'`);
    }
  });
  for (const h of HYPERS) if (!hypers.has(h)) fail("inputs", `no input for the hyperparameter '${h}'`);
  for (const s of train.state) if (!stateRead.has(s.name)) fail("inputs", `no input for the state '${s.name}'`);

  const losses = new Set<string>();
  const updated = new Set<string>();
  abi.outputs.forEach((b, i) => {
    const at = `outputs[${i}]`;
    const spec = step.outputs[i]!;
    if (b.role === "loss") {
      once(at, losses, "loss", "the loss");
      tensor(at, spec, [], "the loss");
    } else if (b.role === "param") {
      const shape = shapeOf.get(b.param) ?? fail(at, `updates '${b.param}', which is not a parameter of the model`);
      if (!train.params.includes(b.param)) fail(at, `updates '${b.param}', which the step does not list among its parameters`);
      tensor(at, spec, shape, `the parameter '${b.param}'`);
      once(at, updated, b.param, `the update of '${b.param}'`);
    } else {
      const s = stateOf.get(b.state) ?? fail(at, `updates '${b.state}', which is not an optimizer state tensor of the step`);
      tensor(at, spec, s.shape, `the state '${b.state}'`);
      once(at, updated, b.state, `the update of '${b.state}'`);
    }
  });
  if (losses.size === 0) fail("outputs", "no loss");
  for (const p of train.params) if (!updated.has(p)) fail("outputs", `no update of the parameter '${p}'`);
  for (const s of train.state) if (!updated.has(s.name)) fail("outputs", `no update of the state '${s.name}'`);
}

