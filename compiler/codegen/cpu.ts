// The CPU program of a graph: its nodes in topological order and the steps
// that compute them, one per materialized node. With fusion, an elementwise
// group is one step; without it (`--no-fusion`, and the float64 reference
// evaluator) every node is its own kernel.

import type { CpuProgram, Step } from "../../runtime/program/program.js";
import { fuseElementwise } from "../fusion/elementwise.js";
import { lookup } from "../ir/checked.js";
import { graphNodes } from "../ir/graph.js";
import { toProgram } from "../ir/lower.js";
import type { Graph, Node } from "../ir/node.js";

export interface CpuOptions {
  readonly fusion?: boolean;
}

export function lowerCpu(g: Graph, options: CpuOptions = {}): CpuProgram {
  const graph = toProgram(g);
  const nodes = graphNodes(g);
  const index = new Map(nodes.map((n, i) => [n, i]));
  const groups = options.fusion === false ? new Map() : fuseElementwise(g).groups;
  const inGroup = new Set<Node>();
  for (const group of groups.values()) for (const m of group.members) if (m !== group.root) inGroup.add(m);
  const steps: Step[] = [];
  for (const n of nodes) {
    const i = lookup(index, n, "the node index");
    const group = groups.get(n);
    if (n.op === "input" || n.op === "param") continue;
    if (group && group.members.length > 1) steps.push({ kind: "fused", node: i, members: group.members.map((m: Node) => lookup(index, m, "the node index")) });
    else if (n.op === "reshape" || n.op === "stopGradient") {
      // A reshape that no loop absorbed shares its input's buffer.
      if (group || !inGroup.has(n)) steps.push({ kind: "alias", node: i });
    } else if (group || !inGroup.has(n)) steps.push({ kind: "kernel", node: i });
  }
  return { graph, steps };
}
