// The simplification pipeline: algebra, constant folding and CSE to a fixed
// point, then DCE. Each step is a pure pass; `simplify` records the node count
// after each one (`dlc compile --emit stats`), and a verifier can be run
// between passes (the tests do).

import { graphNodes } from "../ir/graph.js";
import type { Graph } from "../ir/node.js";
import { ALGEBRA } from "./algebra.js";
import { CSE } from "./cse.js";
import { DCE } from "./dce.js";
import { FOLD } from "./fold.js";
import type { Pass } from "./pass.js";

export interface PassStat {
  readonly pass: string;
  readonly before: number;
  readonly after: number;
}

export interface SimplifyOptions {
  /** Called after every pass with its result (tests verify each graph). */
  readonly check?: (g: Graph, pass: string) => void;
  readonly maxRounds?: number;
}

export const nodeCount = (g: Graph) => graphNodes(g).length;

export function runPasses(g: Graph, passes: readonly Pass[], stats: PassStat[], check?: SimplifyOptions["check"]): Graph {
  for (const p of passes) {
    const before = nodeCount(g);
    g = p.run(g);
    check?.(g, p.name);
    stats.push({ pass: p.name, before, after: nodeCount(g) });
  }
  return g;
}

export function simplify(g: Graph, options: SimplifyOptions = {}): { graph: Graph; stats: PassStat[] } {
  const stats: PassStat[] = [];
  for (let round = 0; round < (options.maxRounds ?? 8); round++) {
    const before = nodeCount(g);
    g = runPasses(g, [ALGEBRA, FOLD, CSE], stats, options.check);
    if (nodeCount(g) === before && round > 0) break;
  }
  g = runPasses(g, [DCE], stats, options.check);
  return { graph: g, stats };
}
