// The training step as one graph: the loss, its gradients, and the
// optimizer's update of every parameter and of its own state. Optimizers are
// graph nodes like any others, so fusion sees the update too (one elementwise
// loop per parameter on the CPU, one kernel on WebGPU).
//
// Inputs added to the model's own: the hyperparameters (this step's learning
// rate, from the schedule, which the runtime evaluates, and t, counting from
// 1), both f32 scalars, and one input per state tensor. Outputs: the loss, each
// parameter's updated value and each state tensor's. What each one is for is
// the step's ABI (runtime/program/abi.ts), which also names them.

import { inputsWith, KEY_INPUT, trainAbi, type TrainAbi } from "../../runtime/program/abi.js";
import type { StateSpec } from "../../runtime/program/model.js";
import { ADAM_DEFAULTS, ADAMW_WEIGHT_DECAY, SGD_DEFAULTS, type OptimizerConfig } from "../../runtime/program/train-config.js";
import { paramsOf } from "../ir/graph.js";
import type { Graph, Node, NodeOf, Output } from "../ir/node.js";
import { binary, full, reduce, unary } from "../ops/build.js";
import { atLoc, make } from "../ops/make.js";
import { gradName } from "../autodiff/grad.js";
import { updatedParam } from "../ir/program.js";
import { simplify } from "../passes/simplify.js";

export interface TrainStep {
  readonly graph: Graph;
  readonly state: readonly StateSpec[];
  /** The parameters the step writes: the trainable ones the loss reaches, in graph order, then the non-trainable ones it updates. */
  readonly params: readonly string[];
  readonly abi: TrainAbi;
}

const scalar = (v: number) => full(v, []);
const mul = (a: Node, b: Node) => binary("mul", a, b);
const add = (a: Node, b: Node) => binary("add", a, b);
const sub = (a: Node, b: Node) => binary("sub", a, b);
const div = (a: Node, b: Node) => binary("div", a, b);
/** A scalar node spread to `like`'s shape. */
const spread = (s: Node, like: Node) => (like.shape.length === 0 ? s : make("broadcast", [s], { shape: like.shape, dims: [] }));
const times = (x: Node, c: number) => mul(x, full(c, x.shape));

interface Slot {
  readonly param: NodeOf<"param">;
  readonly grad: Node;
}

/** Per-optimizer update rules: new parameter and new state from (param, grad, state, lr, t). */
type Rule = (slot: Slot, state: (kind: string) => Node, lr: Node, t: Node) => { param: Node; state: Record<string, Node> };

function rules(o: OptimizerConfig): { kinds: readonly string[]; rule: Rule } {
  if (o.kind === "sgd") {
    const momentum = o.momentum ?? SGD_DEFAULTS.momentum;
    const decay = o.weightDecay ?? SGD_DEFAULTS.weightDecay;
    return {
      kinds: momentum > 0 ? ["velocity"] : [],
      // PyTorch's SGD: g += wd p; v = mu v + g; step = nesterov ? g + mu v : v.
      rule: ({ param, grad }, state, lr): { param: Node; state: Record<string, Node> } => {
        const g = decay > 0 ? add(grad, times(param, decay)) : grad;
        if (momentum === 0) return { param: sub(param, mul(spread(lr, param), g)), state: {} };
        const v = add(times(state("velocity"), momentum), g);
        const step = o.nesterov ? add(g, times(v, momentum)) : v;
        return { param: sub(param, mul(spread(lr, param), step)), state: { velocity: v } };
      },
    };
  }
  const b1 = o.beta1 ?? ADAM_DEFAULTS.beta1;
  const b2 = o.beta2 ?? ADAM_DEFAULTS.beta2;
  const eps = o.eps ?? ADAM_DEFAULTS.eps;
  const decay = o.kind === "adamw" ? (o.weightDecay ?? ADAMW_WEIGHT_DECAY) : 0;
  return {
    kinds: ["m", "v"],
    // Adam with bias correction; AdamW decays the weights apart from the gradient (Loshchilov & Hutter).
    rule: ({ param, grad }, state, lr, t) => {
      const m = add(times(state("m"), b1), times(grad, 1 - b1));
      const v = add(times(state("v"), b2), times(mul(grad, grad), 1 - b2));
      const c1 = sub(scalar(1), binary("pow", scalar(b1), t));
      const c2 = sub(scalar(1), binary("pow", scalar(b2), t));
      const mhat = div(m, spread(c1, m));
      const vhat = div(v, spread(c2, v));
      let step = div(mhat, add(unary("sqrt", vhat), full(eps, v.shape)));
      if (decay > 0) step = add(step, times(param, decay));
      return { param: sub(param, mul(spread(lr, param), step)), state: { m, v } };
    },
  };
}

/** Scales every gradient by min(1, clip / ||g||) where ||g|| is the norm of all of them together. */
function clipGlobalNorm(grads: readonly Node[], clip: number): Node[] {
  const squares = grads.map((g) => reduce("sum", mul(g, g), g.shape.map((_, i) => i)));
  const norm = unary("sqrt", squares.reduce(add));
  const scale = div(scalar(clip), binary("maximum", norm, scalar(clip)));
  return grads.map((g) => mul(g, spread(scale, g)));
}

/** Appends the optimizer to a training graph (loss and gradients, from autodiff). */
export function trainStep(training: Graph, optimizer: OptimizerConfig): TrainStep {
  const gradOf = new Map(training.outputs.map((o) => [o.name, o.node]));
  // Trainable parameters have gradients; non-trainable ones written by the step have updates.
  const params = paramsOf(training).filter((p) => gradOf.has(gradName(p.attrs.name)));
  const updates = new Map(training.outputs.flatMap((o) => {
    const param = updatedParam(o.name);
    return param === undefined ? [] : [[param, o.node] as const];
  }));
  const loss = training.outputs.find((o) => o.name === "loss")!;
  const key = training.inputs.filter((i) => i.attrs.name === KEY_INPUT);
  const data = training.inputs.filter((i) => i.attrs.name !== KEY_INPUT);
  const { kinds, rule } = rules(optimizer);
  const abi = trainAbi(data.map((i) => i.attrs.name), params.map((p) => p.attrs.name), kinds, { key: key.length > 0, updated: [...updates.keys()] });
  return atLoc(loss.node.loc, () => {
    const hyper = new Map(inputsWith(abi, "hyper").map((b) => [b.hyper, make("input", [], { name: b.name, shape: [], dtype: "f32" })]));
    let grads = params.map((p) => gradOf.get(gradName(p.attrs.name))!);
    if (optimizer.clipNorm !== undefined) grads = clipGlobalNorm(grads, optimizer.clipNorm);

    const state: StateSpec[] = [];
    const stateInputs: NodeOf<"input">[] = [];
    const newParam = new Map<string, Node>();
    const newState = new Map<string, Node>();
    params.forEach((param, k) => {
      const name = param.attrs.name;
      const mine = inputsWith(abi, "state").filter((b) => b.param === name);
      const inputs = new Map<string, NodeOf<"input">>();
      for (const b of mine) {
        const spec: StateSpec = { name: b.name, param: name, shape: param.shape as number[] };
        state.push(spec);
        const input = make("input", [], { name: spec.name, shape: spec.shape, dtype: "f32" });
        inputs.set(b.kind, input);
        stateInputs.push(input);
      }
      const updated = rule({ param, grad: grads[k]! }, (kind) => inputs.get(kind)!, hyper.get("lr")!, hyper.get("step")!);
      newParam.set(name, updated.param);
      for (const b of mine) newState.set(b.name, updated.state[b.kind]!);
    });
    const outputs: Output[] = abi.outputs.map((b) => ({
      name: b.name,
      node: b.role === "loss" ? loss.node : b.role === "param" ? (newParam.get(b.param) ?? updates.get(b.param)!) : newState.get(b.state)!,
    }));
    const graph: Graph = { name: "train", inputs: [...data, ...key, ...inputsWith(abi, "hyper").map((b) => hyper.get(b.hyper)!), ...stateInputs], outputs };
    return { graph: simplify(graph).graph, state, params: [...params.map((p) => p.attrs.name), ...updates.keys()], abi };
  });
}
