// The graphs autodiff builds for a model. The training graph: `loss` (traced
// in training mode) and its gradient with respect to every trainable
// parameter, simplified; the new values of non-trainable parameters
// (`update/...`) ride along as outputs. (The optimizer update is appended by
// the optimizer stage.) A gradient entry: any scalar entry point, as traced
// for inference, with its gradient with respect to the trainable parameters
// and its f32 inputs, which the runtime runs like any other entry point.

import { gradEntryName } from "../../runtime/program/model.js";
import { compileError } from "../frontend/diagnostics.js";
import type { Graph } from "../ir/node.js";
import { entry, trainingLoss, type Program } from "../ir/program.js";
import { ERASE_STOP_GRADIENT } from "../passes/algebra.js";
import { CSE } from "../passes/cse.js";
import { nodeCount, runPasses, simplify, type PassStat, type SimplifyOptions } from "../passes/simplify.js";
import { grad, gradName, type GradOptions } from "./grad.js";

export interface TrainingGraph {
  readonly graph: Graph;
  /** Node counts through the pipeline: the forward graph, after grad, after each pass. */
  readonly stats: readonly PassStat[];
}

export function trainingGraph(program: Program, options: SimplifyOptions = {}): TrainingGraph {
  const loss = trainingLoss(program);
  if (!loss) throw new Error("the model has no loss entry point");
  const { graph, stats } = differentiate(loss, { output: "loss", frozen: frozenParams(program) }, options);
  return { graph: { ...graph, name: "train" }, stats };
}

/**
 * The gradient entry of a scalar entry point (`gradEntryName(name)`): its
 * value under the entry's output name, then `grad/<param>` for every
 * trainable parameter it reads and `grad/<input>` for every f32 input.
 */
export function gradientGraph(program: Program, name: string, options: SimplifyOptions = {}): TrainingGraph {
  const g = entry(program, name);
  if (!g) throw new Error(`the model has no entry point '${name}'`);
  const inputs = g.inputs.filter((i) => i.dtype === "f32").map((i) => i.attrs.name);
  const frozen = frozenParams(program);
  const clash = program.params.find((p) => !frozen.has(p.name) && inputs.some((i) => gradName(i) === gradName(p.name)));
  if (clash) {
    throw compileError("DLC4002", `the gradient of '${name}' would name two values ${gradName(clash.name)}: a parameter and an input are both called '${clash.name}'`, "rename the parameter or the input", { ...clash.loc, length: 1 });
  }
  const { graph, stats } = differentiate(g, { frozen, inputs }, options);
  return { graph: { ...graph, name: gradEntryName(name) }, stats };
}

/** Parameters no gradient is taken of: batch norm's running statistics. */
function frozenParams(program: Program): Set<string> {
  return new Set(program.params.filter((p) => p.trainable === false).map((p) => p.name));
}

function differentiate(forwardGraph: Graph, grads: GradOptions, options: SimplifyOptions): TrainingGraph {
  const stats: PassStat[] = [];
  // CSE first: entry points are traced by inlining, so shared subexpressions appear once per use.
  const forward = runPasses(forwardGraph, [CSE], stats, options.check);
  const differentiated = grad(forward, grads);
  options.check?.(differentiated, "grad");
  stats.push({ pass: "grad", before: nodeCount(forward), after: nodeCount(differentiated) });
  const erased = runPasses(differentiated, [ERASE_STOP_GRADIENT], stats, options.check);
  const { graph, stats: more } = simplify(erased, options);
  return { graph, stats: [...stats, ...more] };
}
