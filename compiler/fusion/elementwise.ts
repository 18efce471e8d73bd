// Elementwise fusion: which nodes are computed inside the loop of a consumer
// instead of into a buffer of their own.
//
// Groups grow from their roots towards the inputs. A root is any node whose
// value must exist as a buffer: a graph output, a node with consumers in
// several groups, or a node no loop can absorb (matmul, convolution,
// reduction, pooling). A root absorbs an elementwise producer of the same size
// whose consumers all lie in the group; constants, iota, and the index maps
// (broadcast, transpose) of materialized values are recomputed in every group
// that reads them. Because an absorbed node's consumers are all inside the
// group, no group can depend on itself through an outside node.
//
// Legality lives here; the reason a node was not absorbed is recorded, which
// is what `--explain-fusion` prints.

import { dimEq, numel } from "../../runtime/program/dim.js";
import { OP_FAMILY } from "../../runtime/program/ops.js";
import { graphNodes } from "../ir/graph.js";
import type { Graph, Node } from "../ir/node.js";

export interface ElementwiseGroup {
  /** The materialized node. */
  readonly root: Node;
  /** Members in topological order, ending with the root. */
  readonly members: readonly Node[];
}

export type Refusal = "different size" | "consumers in other groups" | "not elementwise" | "graph output" | "source";

export interface Fusion {
  readonly groups: ReadonlyMap<Node, ElementwiseGroup>;
  /** For each node that is materialized although an elementwise consumer reads it: why. */
  readonly refusals: ReadonlyMap<Node, Refusal>;
}

/** Computed inside a loop: an elementwise op, or a reshape of a member (same flat index). */
export function isLoopOp(n: Node): boolean {
  return (OP_FAMILY[n.op] === "elementwise") || n.op === "reshape";
}

/** Recomputed in every group that reads it: no input, or an index map of a materialized value. */
export function isLeafLoad(n: Node): boolean {
  return n.op === "const" || n.op === "iota" || n.op === "broadcast" || n.op === "transpose";
}

export function fuseElementwise(g: Graph): Fusion {
  const nodes = graphNodes(g);
  const consumers = new Map<Node, Node[]>();
  for (const n of nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const outputs = new Set(g.outputs.map((o) => o.node));
  const rootOf = new Map<Node, Node>(); // computed member -> its group's root
  const groups = new Map<Node, ElementwiseGroup>();
  const refusals = new Map<Node, Refusal>();

  // Reverse topological order: a node's consumers are all placed before the node is.
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    if (rootOf.has(n) || (!isLoopOp(n) && !isLeafLoad(n))) continue;
    if (isLeafLoad(n) && !outputs.has(n) && (consumers.get(n) ?? []).every((c) => groups.get(rootOf.get(c)!)?.members.includes(n))) continue;
    const members = new Set<Node>([n]);
    rootOf.set(n, n);
    const size = numel(n.shape);
    const refusal = (p: Node): Refusal | undefined => {
      if (p.op === "input" || p.op === "param") return "source";
      if (!isLoopOp(p) && !isLeafLoad(p)) return "not elementwise";
      if (!dimEq(numel(p.shape), size)) return "different size";
      if (isLeafLoad(p)) return undefined;
      if (outputs.has(p)) return "graph output";
      if (rootOf.has(p) || !(consumers.get(p) ?? []).every((c) => members.has(c))) return "consumers in other groups";
      return undefined;
    };
    // Grow to a fixed point: a producer shared by two members is accepted once both are in.
    for (let grew = true; grew; ) {
      grew = false;
      for (const m of [...members]) {
        if (m.op === "broadcast" || m.op === "transpose") continue; // index maps read materialized values
        for (const p of m.inputs) {
          if (members.has(p)) continue;
          const why = refusal(p);
          if (why) {
            refusals.set(p, why);
            continue;
          }
          refusals.delete(p);
          members.add(p);
          if (!isLeafLoad(p)) rootOf.set(p, n);
          grew = true;
        }
      }
    }
    groups.set(n, { root: n, members: nodes.filter((m) => members.has(m)) });
  }
  for (const [n, root] of rootOf) if (root !== n) refusals.delete(n);
  for (const [n, why] of refusals) if (why === "source" || why === "not elementwise") refusals.delete(n);
  return { groups, refusals };
}
