// The optimizer update compiled into the training step, against the textbook.
//
// For every optimizer (SGD plain, with momentum, Nesterov momentum and weight
// decay; Adam; AdamW), unclipped and with global-norm clipping both active and
// inactive, a small tanh regression model takes K = 5 consecutive steps two
// ways in float64:
//   (a) the step graph, fed `opt/lr`, `opt/step` = t and its own state outputs;
//   (b) the plain-JS reference below, written from PyTorch's SGD and the Adam
//       and AdamW papers, fed gradients from the training graph evaluated at
//       the reference's own parameters.
// Parameters must agree after every step to a normwise relative error of
// 1e-12 (per parameter). The reference knows nothing of the step graph.

import test from "ava";
import { gradName } from "../../../compiler/autodiff/grad.js";
import { entry } from "../../../compiler/ir/program.js";
import { verifyGraph } from "../../../compiler/ir/verify.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { sourceCompilation } from "../../helpers/compile.js";
import { relativeError } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";
import { batches, initialParams, lrAt, modelSource, PARAMS, runStepGraph, type OptimizerCall, type OptimizerOptions } from "./fixture.js";

const K = 5;
const TOL = 1e-12;
const SEED = 7;

// ---------------------------------------------------------------- the reference

type Vec = Float64Array;

/** Hyperparameters, all explicit: the reference assumes no defaults. */
type Hyper =
  | { readonly kind: "sgd"; readonly lr: number; readonly momentum: number; readonly nesterov: boolean; readonly weightDecay: number; readonly clipNorm?: number }
  | { readonly kind: "adam" | "adamw"; readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number; readonly clipNorm?: number };

interface ReferenceState {
  readonly params: Map<string, Vec>;
  /** Momentum buffer (SGD) or first moment (Adam), per parameter. */
  readonly first: Map<string, Vec>;
  /** Second moment (Adam), per parameter. */
  readonly second: Map<string, Vec>;
}

const globalNorm = (grads: Iterable<Vec>): number => {
  let sq = 0;
  for (const g of grads) for (const x of g) sq += x * x;
  return Math.sqrt(sq);
};

/**
 * One textbook step at learning rate `lr` and step number t (from 1), in
 * place. Returns the global gradient norm before clipping.
 */
function referenceStep(h: Hyper, s: ReferenceState, grads: Map<string, Vec>, lr: number, t: number): number {
  const norm = globalNorm(grads.values());
  const scale = h.clipNorm === undefined ? 1 : Math.min(1, h.clipNorm / norm);
  for (const [name, p] of s.params) {
    const g = grads.get(name)!.map((x) => x * scale);
    const m = s.first.get(name)!;
    const v = s.second.get(name)!;
    for (let i = 0; i < p.length; i++) {
      if (h.kind === "sgd") {
        // torch.optim.SGD: g += wd p; v = mu v + g; step = nesterov ? g + mu v : v (v = g when mu = 0).
        const gi = g[i]! + h.weightDecay * p[i]!;
        m[i] = h.momentum * m[i]! + gi;
        const step = h.momentum === 0 ? gi : h.nesterov ? gi + h.momentum * m[i]! : m[i]!;
        p[i] = p[i]! - lr * step;
      } else {
        // Adam (Kingma & Ba) with bias correction; AdamW adds wd p to the step (Loshchilov & Hutter).
        m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g[i]!;
        v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g[i]! * g[i]!;
        const mhat = m[i]! / (1 - h.beta1 ** t);
        const vhat = v[i]! / (1 - h.beta2 ** t);
        const decay = h.kind === "adamw" ? h.weightDecay * p[i]! : 0;
        p[i] = p[i]! - lr * (mhat / (Math.sqrt(vhat) + h.eps) + decay);
      }
    }
  }
  return norm;
}

// ---------------------------------------------------------------- the cases

interface Optimizer {
  readonly name: string;
  readonly call: OptimizerCall;
  /** What the model's source passes to `call`. */
  readonly options: OptimizerOptions;
  readonly hyper: Hyper;
  /** The optimizer's state kinds: `opt/<kind>/<param>`. */
  readonly state: readonly string[];
}

const sgd = (name: string, o: { momentum?: number; nesterov?: boolean; weightDecay?: number }): Optimizer => ({
  name,
  call: "sgd",
  options: { lr: 0.1, ...o },
  hyper: { kind: "sgd", lr: 0.1, momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 },
  state: (o.momentum ?? 0) > 0 ? ["velocity"] : [],
});

const adamLike = (call: "adam" | "adamw", o: { weightDecay?: number }): Optimizer => {
  // Not the defaults, so that a hyperparameter that fails to reach the graph shows.
  const common = { lr: 0.02, beta1: 0.8, beta2: 0.95, eps: 1e-6 };
  return { name: call, call, options: { ...common, ...o }, hyper: { kind: call, ...common, weightDecay: o.weightDecay ?? 0 }, state: ["m", "v"] };
};

const OPTIMIZERS: readonly Optimizer[] = [
  sgd("sgd", {}),
  sgd("sgd with momentum", { momentum: 0.9 }),
  sgd("sgd with nesterov momentum", { momentum: 0.9, nesterov: true }),
  sgd("sgd with weight decay", { weightDecay: 0.1 }),
  sgd("sgd with nesterov momentum and weight decay", { momentum: 0.8, nesterov: true, weightDecay: 0.1 }),
  adamLike("adam", {}),
  adamLike("adamw", { weightDecay: 0.1 }),
];

/**
 * Clipping variants. The gradient norms of this model and data stay within
 * about [0.25, 2] over the run (each test asserts which side of the threshold
 * every step falls on, so a variant cannot silently test the other branch).
 */
const CLIPPING = [
  { name: "", clipNorm: undefined, side: undefined },
  { name: ", clipped (norm above the threshold)", clipNorm: 0.1, side: "above" },
  { name: ", clipped (norm below the threshold)", clipNorm: 100, side: "below" },
] as const;

// ---------------------------------------------------------------- the checks

function compile(o: Optimizer, clipNorm: number | undefined) {
  const options = clipNorm === undefined ? o.options : { ...o.options, clipNorm };
  const c = sourceCompilation(modelSource(o.call, options));
  return { program: c.source(), config: c.trainConfig().optimizer, training: c.training().graph, step: c.step() };
}

const paramFeeds = (params: ReadonlyMap<string, Vec>): Map<string, NDArray> =>
  new Map(PARAMS.map((p) => [p.name, { shape: p.shape, data: params.get(p.name)! }]));

const describe = (a: Vec, b: Vec) => `\n  step graph ${[...a].slice(0, 4).map((x) => x.toPrecision(17))}\n  reference  ${[...b].slice(0, 4).map((x) => x.toPrecision(17))}`;

for (const o of OPTIMIZERS) {
  for (const clip of CLIPPING) {
    const hyper: Hyper = { ...o.hyper, ...(clip.clipNorm === undefined ? {} : { clipNorm: clip.clipNorm }) };

    test(`${o.name}${clip.name}: ${K} steps of the step graph match the textbook update after every step`, (t) => {
      const { training, step } = compile(o, clip.clipNorm);
      const data = batches(SEED, K);
      const start = initialParams(SEED);
      const graph = runStepGraph(step, data, start, o.hyper.lr);

      const ref: ReferenceState = {
        params: new Map([...start].map(([k, v]) => [k, Float64Array.from(v)])),
        first: new Map(PARAMS.map((p) => [p.name, new Float64Array(start.get(p.name)!.length)])),
        second: new Map(PARAMS.map((p) => [p.name, new Float64Array(start.get(p.name)!.length)])),
      };
      for (let k = 0; k < K; k++) {
        const out = lowerAndRun(training, data[k]!, paramFeeds(ref.params));
        const grads = new Map(PARAMS.map((p) => [p.name, Float64Array.from(out.get(gradName(p.name))!.data)]));
        const norm = referenceStep(hyper, ref, grads, lrAt(o.hyper.lr, k + 1), k + 1);
        if (clip.side === "above") t.true(norm > clip.clipNorm, `step ${k + 1}: the gradient norm ${norm} should exceed the threshold ${clip.clipNorm}`);
        if (clip.side === "below") t.true(norm < clip.clipNorm, `step ${k + 1}: the gradient norm ${norm} should stay under the threshold ${clip.clipNorm}`);
        for (const p of PARAMS) {
          const a = graph.params[k]!.get(p.name)!;
          const b = ref.params.get(p.name)!;
          const err = relativeError(a, b);
          t.true(err <= TOL, `step ${k + 1}, ${p.name}: relative error ${err.toExponential(2)} > ${TOL}${describe(a, b)}`);
        }
      }
    });
  }

  test(`${o.name}: the step graph's loss is the loss entry's value at the parameters before the update`, (t) => {
    const { program, step } = compile(o, undefined);
    const loss = entry(program, "loss")!;
    const data = batches(SEED, K);
    const start = initialParams(SEED);
    const graph = runStepGraph(step, data, start, o.hyper.lr);
    for (let k = 0; k < K; k++) {
      const before = k === 0 ? start : graph.params[k - 1]!;
      const expected = lowerAndRun(loss, data[k]!, paramFeeds(before)).get("loss")!.data[0]!;
      t.true(Math.abs(graph.loss[k]! - expected) <= TOL * Math.abs(expected), `step ${k + 1}: loss ${graph.loss[k]} != ${expected}`);
    }
  });

  test(`${o.name}: ${o.state.length === 0 ? "the optimizer keeps no state" : `the optimizer state is ${o.state.map((s) => `'${s}'`).join(" and ")} per parameter, shaped like it`}`, (t) => {
    const { step } = compile(o, undefined);
    const expected = PARAMS.flatMap((p) => o.state.map((kind) => ({ name: `opt/${kind}/${p.name}`, param: p.name, shape: [...p.shape] })));
    t.deepEqual(
      step.state.map((s) => ({ name: s.name, param: s.param, shape: [...s.shape] })),
      expected,
    );
    t.deepEqual(
      step.graph.inputs.map((i) => i.attrs.name),
      ["x", "target", "opt/lr", "opt/step", ...expected.map((s) => s.name)],
      "the step's inputs are the loss's, then the learning rate, the step number and the state",
    );
    t.deepEqual(
      step.graph.outputs.map((out) => out.name),
      ["loss", ...PARAMS.map((p) => `param/${p.name}`), ...expected.map((s) => `state/${s.name}`)],
      "the step's outputs are the loss, the updated parameters and the updated state",
    );
  });
}

test("every step graph passes the IR verifier", (t) => {
  for (const o of OPTIMIZERS) {
    for (const clip of CLIPPING) {
      const { step } = compile(o, clip.clipNorm);
      t.notThrows(() => verifyGraph(step.graph), `${o.name}${clip.name}`);
    }
  }
});

test("adam's first step moves every parameter by about lr against the sign of its gradient", (t) => {
  // mhat = g and vhat = g^2 at t = 1, so the step is lr g / (|g| + eps): a closed form, apart from the reference.
  const adam = OPTIMIZERS.find((o) => o.name === "adam")!;
  const { training, step } = compile(adam, undefined);
  const data = batches(SEED, 1);
  const start = initialParams(SEED);
  const after = runStepGraph(step, data, start, adam.hyper.lr).params[0]!;
  const grads = lowerAndRun(training, data[0]!, paramFeeds(start));
  const { eps } = adam.hyper as Extract<Hyper, { kind: "adam" | "adamw" }>;
  const lr = lrAt(adam.hyper.lr, 1);
  for (const p of PARAMS) {
    const g = grads.get(gradName(p.name))!.data;
    const x0 = start.get(p.name)!;
    after.get(p.name)!.forEach((x, i) => {
      const expected = x0[i]! - (lr * g[i]!) / (Math.abs(g[i]!) + eps);
      t.true(Math.abs(x - expected) <= 1e-15, `${p.name}[${i}]: ${x} != ${expected}`);
    });
  }
});

test("plain sgd's first step is p - lr g exactly", (t) => {
  const plain = OPTIMIZERS.find((o) => o.name === "sgd")!;
  const { training, step } = compile(plain, undefined);
  const data = batches(SEED, 1);
  const start = initialParams(SEED);
  const after = runStepGraph(step, data, start, plain.hyper.lr).params[0]!;
  const grads = lowerAndRun(training, data[0]!, paramFeeds(start));
  for (const p of PARAMS) {
    const g = grads.get(gradName(p.name))!.data;
    const x0 = start.get(p.name)!;
    t.deepEqual([...after.get(p.name)!], [...x0].map((x, i) => x - lrAt(plain.hyper.lr, 1) * g[i]!), p.name);
  }
});
