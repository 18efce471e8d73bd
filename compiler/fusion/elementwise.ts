// Elementwise fusion: which nodes are computed inside the loop of a consumer
// instead of into a buffer of their own.
//
// Groups grow from their roots towards the inputs. A root is any node whose
// value must exist as a buffer: a graph output, a node with consumers in
// several groups, or a node no loop can absorb (matmul, convolution,
// reduction, pooling). A root absorbs an elementwise producer of the same size
// whose consumers all lie in the group; constants, iota, random draws (from
// a materialized key) and the index maps (broadcast, transpose, slice, pad) of
// materialized values are recomputed in every group that reads them. Because
// an absorbed node's consumers are all inside the group, no group can depend
// on itself through an outside node.
//
// (The WebGPU partition, kernels.ts, is the richer one: it also fuses
// reductions and contractions, and records why each value got a buffer.)

import { dimEq, numel } from "../../runtime/program/dim.js";
import { OP_FAMILY } from "../../runtime/program/ops.js";
import { graphNodes } from "../ir/graph.js";
import { byOrder } from "./groups.js";
import type { Graph, Node } from "../ir/node.js";

export interface ElementwiseGroup {
  /** The materialized node. */
  readonly root: Node;
  /** Members in topological order, ending with the root. */
  readonly members: readonly Node[];
}

export interface Fusion {
  readonly groups: ReadonlyMap<Node, ElementwiseGroup>;
}

/** Computed inside a loop: an elementwise op, or a reshape of a member (same flat index). */
export function isLoopOp(n: Node): boolean {
  return (OP_FAMILY[n.op] === "elementwise") || n.op === "reshape";
}

/** Recomputed in every group that reads it: no input, or only materialized ones. */
export function isLeafLoad(n: Node): boolean {
  return n.op === "const" || n.op === "iota" || readsBuffers(n);
}

/** Views that read their input at another index: computed from a buffer, never from a member. */
export function isIndexMap(n: Node): boolean {
  return n.op === "broadcast" || n.op === "transpose" || n.op === "slice" || n.op === "pad";
}

/** Reads its inputs at indices other than its own (a random draw reads its key at 0 and 1): they must be buffers. */
function readsBuffers(n: Node): boolean {
  return isIndexMap(n) || n.op === "random";
}

export function fuseElementwise(g: Graph): Fusion {
  const nodes = graphNodes(g);
  const order = new Map(nodes.map((n, i) => [n, i]));
  const consumers = new Map<Node, Node[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const outputs = new Set(g.outputs.map((o) => o.node));
  const rootOf = new Map<Node, Node>(); // computed member -> its group's root
  const groups = new Map<Node, ElementwiseGroup>();
  const memberSets = new Map<Node, ReadonlySet<Node>>(); // root -> its group's members
  /** Whether consumer c lies in a group that computes n itself. */
  const readsInLoop = (c: Node, n: Node) => {
    const root = rootOf.get(c);
    return root !== undefined && memberSets.get(root)?.has(n) === true;
  };

  // Reverse topological order: a node's consumers are all placed before the node is.
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (rootOf.has(n) || (!isLoopOp(n) && !isLeafLoad(n))) continue;
    if (isLeafLoad(n) && !outputs.has(n) && (consumers.get(n) ?? []).every((c) => readsInLoop(c, n))) continue;
    const members = new Set<Node>([n]);
    rootOf.set(n, n);
    const size = numel(n.shape);
    /** Whether the group computes p inline: an elementwise producer of its size whose consumers it all holds. */
    const absorbs = (p: Node): boolean => {
      if (p.op === "input" || p.op === "param" || (!isLoopOp(p) && !isLeafLoad(p)) || !dimEq(numel(p.shape), size)) return false;
      // A value that some node reads at other indices (transpose(x) + x) is a buffer, for the group too.
      const readers = consumers.get(p) ?? [];
      if (readers.some(readsBuffers)) return false;
      if (isLeafLoad(p)) return true;
      return !outputs.has(p) && !rootOf.has(p) && readers.every((c) => members.has(c));
    };
    // Grow to a fixed point: a producer shared by two members is accepted once both are in
    // (when the second joins, its inputs are looked at again).
    const grow = [n];
    for (let m = grow.pop(); m !== undefined; m = grow.pop()) {
      if (readsBuffers(m)) continue;
      for (const p of m.inputs) {
        if (members.has(p) || !absorbs(p)) continue;
        members.add(p);
        if (!isLeafLoad(p)) rootOf.set(p, n);
        grow.push(p);
      }
    }
    groups.set(n, { root: n, members: [...members].sort(byOrder(order)) });
    memberSets.set(n, members);
  }
  return { groups };
}
