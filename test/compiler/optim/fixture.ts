// What the optimizer tests share: a small tanh regression model whose source
// names the optimizer, deterministic batches and starting parameters, and a
// driver that runs the compiled step graph for several consecutive steps in
// float64, carrying its `param/*` and `state/*` outputs into the next step.

import type { TrainStep } from "../../../compiler/optim/step.js";
import { inputsWith, lossOutput } from "../../../runtime/program/abi.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { sample } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

/** The model's parameters, in declaration order. */
export const PARAMS = [
  { name: "w1", shape: [3, 4] },
  { name: "b1", shape: [4] },
  { name: "w2", shape: [4, 1] },
] as const;

export const BATCH = 5;

export type OptimizerCall = "sgd" | "adam" | "adamw";
export type OptimizerOptions = Readonly<Record<string, number | boolean>>;

/** `options` written as an object literal (`{ lr: 0.1, nesterov: true }`). */
export function literal(options: OptimizerOptions): string {
  return `{ ${Object.entries(options)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(", ")} }`;
}

/** Model source: 3 -> 4 (tanh) -> 1, mean squared error, trained by `call(options)`. */
export function modelSource(call: OptimizerCall, options: OptimizerOptions): string {
  return `import { type Tensor, param, matmul, tanh, mean, reshape, ${call} } from "dlc";

export function predict(x: Tensor<["batch", 3]>): Tensor<["batch", 1]> {
  const h = tanh(matmul(x, param("w1", [3, 4], "glorot")) + param("b1", [4], "zeros"));
  return matmul(h, param("w2", [4, 1], "glorot"));
}

export function loss(x: Tensor<["batch", 3]>, target: Tensor<["batch"]>): Tensor<[]> {
  const err = reshape(predict(x), [-1]) - target;
  return mean(err * err);
}

export const train = { optimizer: ${call}(${literal(options)}) };
`;
}

/**
 * Values that float32 represents exactly, so that a float32 run and a float64
 * run start from the same numbers.
 */
const representable = (a: Float64Array): Float64Array => a.map(Math.fround);

/** `k` batches of (x, target), one per step. */
export function batches(seed: number, k: number): Map<string, NDArray>[] {
  const rng = new Random(seed, 1);
  return Array.from({ length: k }, () => {
    const x = representable(sample(rng, [BATCH, 3], { lo: -2, hi: 2 }));
    const target = representable(sample(rng, [BATCH], { lo: -1, hi: 1 }));
    return new Map<string, NDArray>([
      ["x", { shape: [BATCH, 3], data: x }],
      ["target", { shape: [BATCH], data: target }],
    ]);
  });
}

export function initialParams(seed: number): Map<string, Float64Array> {
  const rng = new Random(seed, 2);
  return new Map(PARAMS.map((p) => [p.name, representable(sample(rng, p.shape, { lo: -0.8, hi: 0.8 }))]));
}

/** The learning rate fed at step t (from 1): it changes every step, as a schedule's would. */
export const lrAt = (base: number, t: number): number => Math.fround(base * (1 - 0.1 * (t - 1)));

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const shapeOf = (name: string): readonly number[] => PARAMS.find((p) => p.name === name)!.shape;

export interface Trajectory {
  /** The parameters after each step. */
  readonly params: Map<string, Float64Array>[];
  /** The `loss` output of each step. */
  readonly loss: number[];
}

/** Runs `step` on each batch in turn (t = 1, 2, ...) in float64, from `start` and zero optimizer state. */
export function runStepGraph(step: TrainStep, data: readonly Map<string, NDArray>[], start: ReadonlyMap<string, Float64Array>, baseLr: number): Trajectory {
  let params = new Map([...start].map(([k, v]) => [k, Float64Array.from(v)]));
  let state = new Map(step.state.map((s) => [s.name, new Float64Array(sizeOf(s.shape))]));
  const trajectory: Trajectory = { params: [], loss: [] };
  data.forEach((batch, i) => {
    const t = i + 1;
    const feeds = new Map<string, NDArray>(batch);
    const hyper = { lr: lrAt(baseLr, t), step: t };
    for (const b of inputsWith(step.abi, "hyper")) feeds.set(b.name, { shape: [], data: Float64Array.of(hyper[b.hyper]) });
    for (const s of step.state) feeds.set(s.name, { shape: s.shape, data: state.get(s.name)! });
    const out = lowerAndRun(step.graph, feeds, new Map([...params].map(([k, v]) => [k, { shape: shapeOf(k), data: v }])));
    // Outputs are views of the executable's buffers: copy them before the next run.
    const read = (name: string) => Float64Array.from(out.get(name)!.data);
    params = new Map();
    state = new Map();
    for (const b of step.abi.outputs) {
      if (b.role === "param") params.set(b.param, read(b.name));
      if (b.role === "state") state.set(b.state, read(b.name));
    }
    trajectory.params.push(params);
    trajectory.loss.push(out.get(lossOutput(step.abi))!.data[0]!);
  });
  return trajectory;
}
