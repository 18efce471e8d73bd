// The training graph of a model: `loss` and its gradient with respect to
// every parameter, simplified. (The optimizer update is appended by the
// optimizer stage.)

import type { Graph } from "../ir/node.js";
import { entry, type Program } from "../ir/program.js";
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
  const loss = entry(program, "loss");
  if (!loss) throw new Error("the model has no loss entry point");
  const stats: PassStat[] = [];
  // CSE first: entry points are traced by inlining, so shared subexpressions appear once per use.
  const forward = runPasses(loss, [CSE], stats, options.check);
  const differentiated = grad(forward);
  options.check?.(differentiated, "grad");
  stats.push({ pass: "grad", before: nodeCount(forward), after: nodeCount(differentiated) });
  const erased = runPasses(differentiated, [ERASE_STOP_GRADIENT], stats, options.check);
  const { graph, stats: more } = simplify(erased, options);
  return { graph: { ...graph, name: "train" }, stats: [...stats, ...more] };
}
