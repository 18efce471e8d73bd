// `export const train = { optimizer, batch, epochs, ... }`: the model's default
// training configuration, read from the evaluated value and checked key by key.

import type { Node as Ast } from "ts-morph";
import { Node as AstNode } from "ts-morph";
import type { Normalization, OptimizerConfig, Schedule, TrainConfig } from "../../runtime/program/train-config.js";
import { ADAM_DEFAULTS, ADAMW_WEIGHT_DECAY, DEFAULT_TRAIN, SGD_DEFAULTS } from "../../runtime/program/train-config.js";
import { closest } from "./diagnostics.js";
import type { Evaluator } from "./evaluator.js";
import { ObjectValue, show, type Value } from "./values.js";

const TRAIN_KEYS = ["optimizer", "batch", "epochs", "seed", "normalize", "label"];

export function readTrainConfig(ev: Evaluator, value: Value, decl: Ast): TrainConfig {
  // Points at the property of the object literal when there is one, else at the declaration.
  const at = (key?: string): Ast => {
    const init = AstNode.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
    if (key && init && AstNode.isObjectLiteralExpression(init)) return init.getProperty(key) ?? decl;
    return decl;
  };
  const fail = (message: string, hint: string, key?: string): never => ev.fail("DLC4003", message, hint, at(key));
  if (!(value instanceof ObjectValue) || value.tag) fail(`'train' must be an object, got ${show(value)}`, "export const train = { optimizer: adam({ lr: 1e-3 }), batch: 64, epochs: 5 }");
  const o = (value as ObjectValue).props;
  for (const k of o.keys()) {
    if (!TRAIN_KEYS.includes(k)) {
      const guess = closest(k, TRAIN_KEYS);
      fail(`unknown training option '${k}'`, guess ? `did you mean '${guess}'?` : `known options: ${TRAIN_KEYS.join(", ")}`, k);
    }
  }
  const positiveInt = (k: string, fallback: number): number => {
    const v = o.get(k);
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < (k === "seed" ? 0 : 1)) fail(`'${k}' must be a ${k === "seed" ? "non-negative" : "positive"} integer, got ${show(v)}`, `e.g. ${k}: ${fallback || 1}`, k);
    return v as number;
  };
  const opt = o.get("optimizer");
  if (!(opt instanceof ObjectValue) || opt.tag !== "optimizer") fail("'optimizer' must be made by sgd(), adam() or adamw()", 'import { adam } from "dlc" and write optimizer: adam({ lr: 1e-3 })', "optimizer");
  const normalize = o.get("normalize");
  if (normalize !== undefined && normalize !== "standard" && normalize !== "minmax" && normalize !== "none") fail(`'normalize' must be "standard", "minmax" or "none", got ${show(normalize)}`, "statistics come from the training split", "normalize");
  const label = o.get("label");
  if (label !== undefined && typeof label !== "string") fail(`'label' must be a column name, got ${show(label)}`, 'e.g. label: "species"', "label");
  return {
    optimizer: readOptimizer((opt as ObjectValue).props, (m, h) => fail(m, h, "optimizer")),
    batch: positiveInt("batch", DEFAULT_TRAIN.batch),
    epochs: positiveInt("epochs", DEFAULT_TRAIN.epochs),
    seed: positiveInt("seed", DEFAULT_TRAIN.seed),
    ...(normalize !== undefined ? { normalize: normalize as Normalization } : {}),
    ...(label !== undefined ? { label: label as string } : {}),
  };
}

function readOptimizer(o: Map<string, Value>, fail: (message: string, hint: string) => never): OptimizerConfig {
  const kind = o.get("kind") as OptimizerConfig["kind"];
  const num = (k: string, fallback: number | undefined, ok: (v: number) => boolean, rule: string): number | undefined => {
    const v = o.get(k);
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) fail(`${kind}: '${k}' must be ${rule}, got ${show(v)}`, `e.g. ${kind}({ lr: 1e-3 })`);
    return v as number;
  };
  const positive = (v: number) => v > 0;
  const unit = (v: number) => v >= 0 && v < 1;
  const nonNegative = (v: number) => v >= 0;
  const nesterov = o.get("nesterov");
  if (nesterov !== undefined && typeof nesterov !== "boolean") fail(`sgd: 'nesterov' must be true or false, got ${show(nesterov)}`, "nesterov: true");
  const base = { kind, lr: num("lr", undefined, positive, "a positive number")!, schedule: readSchedule(o.get("schedule"), fail) };
  const clipNorm = num("clipNorm", undefined, positive, "a positive number");
  const clip = clipNorm === undefined ? {} : { clipNorm };
  if (kind === "sgd") {
    const momentum = num("momentum", SGD_DEFAULTS.momentum, unit, "in [0, 1)")!;
    if (nesterov && momentum === 0) fail("sgd: nesterov needs a momentum", "sgd({ lr: 0.1, momentum: 0.9, nesterov: true })");
    return { ...base, ...clip, momentum, nesterov: nesterov === true, weightDecay: num("weightDecay", SGD_DEFAULTS.weightDecay, nonNegative, "non-negative")! };
  }
  return {
    ...base,
    ...clip,
    beta1: num("beta1", ADAM_DEFAULTS.beta1, unit, "in [0, 1)")!,
    beta2: num("beta2", ADAM_DEFAULTS.beta2, unit, "in [0, 1)")!,
    eps: num("eps", ADAM_DEFAULTS.eps, positive, "a positive number")!,
    ...(kind === "adamw" ? { weightDecay: num("weightDecay", ADAMW_WEIGHT_DECAY, nonNegative, "non-negative")! } : {}),
  };
}

function readSchedule(v: Value, fail: (message: string, hint: string) => never): Schedule {
  if (v === undefined) return { kind: "constant" };
  const hint = '{ kind: "constant" }, { kind: "step", every, gamma }, { kind: "cosine", min? } or { kind: "warmup", steps, then? }';
  if (!(v instanceof ObjectValue) || v.tag) return fail(`a schedule must be an object, got ${show(v)}`, hint);
  const p = v.props;
  const num = (k: string, ok: (x: number) => boolean, fallback?: number): number => {
    const x = p.get(k) ?? fallback;
    if (typeof x !== "number" || !ok(x)) return fail(`schedule '${p.get("kind")}': '${k}' is ${show(p.get(k))}`, hint);
    return x;
  };
  switch (p.get("kind")) {
    case "constant":
      return { kind: "constant" };
    case "step":
      return { kind: "step", every: num("every", (x) => Number.isInteger(x) && x > 0), gamma: num("gamma", (x) => x > 0) };
    case "cosine":
      return { kind: "cosine", min: num("min", (x) => x >= 0, 0) };
    case "warmup":
      return { kind: "warmup", steps: num("steps", (x) => Number.isInteger(x) && x > 0), then: readSchedule(p.get("then"), fail) };
  }
  return fail(`unknown schedule ${show(p.get("kind"))}`, hint);
}
