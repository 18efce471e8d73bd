// The training graph of a model: `loss` (traced in training mode) and its
// gradient with respect to every trainable parameter, simplified; the new
// values of non-trainable parameters (`update/...`) ride along as outputs. (The optimizer update is appended by the
// optimizer stage.)

import type { Graph } from "../ir/node.js";
import { trainingLoss, type Program } from "../ir/program.js";
import { ERASE_STOP_GRADIENT } from "../passes/algebra.js";
import { CSE } from "../passes/cse.js";
import { nodeCount, runPasses, simplify, type PassStat, type SimplifyOptions } from "../passes/simplify.js";
import { grad } from "./grad.js";

export interface TrainingGraph {
  readonly graph: Graph;
  /** Node counts through the pipeline: the forward graph, after grad, after each pass. */
  readonly stats: readonly PassStat[];
}

export function trainingGraph(program: Program, options: SimplifyOptions = {}): TrainingGraph {
  const loss = trainingLoss(program);
  if (!loss) throw new Error("the model has no loss entry point");
  const frozen = new Set(program.params.filter((p) => p.trainable === false).map((p) => p.name));
  const stats: PassStat[] = [];
  // CSE first: entry points are traced by inlining, so shared subexpressions appear once per use.
  const forward = runPasses(loss, [CSE], stats, options.check);
  const differentiated = grad(forward, { output: "loss", frozen });
  options.check?.(differentiated, "grad");
  stats.push({ pass: "grad", before: nodeCount(forward), after: nodeCount(differentiated) });
  const erased = runPasses(differentiated, [ERASE_STOP_GRADIENT], stats, options.check);
  const { graph, stats: more } = simplify(erased, options);
  return { graph: { ...graph, name: "train" }, stats: [...stats, ...more] };
}
