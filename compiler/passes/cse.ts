// Common subexpression elimination: two nodes with the same op, attributes
// and inputs are one node. Inputs are rewritten first, so equality of inputs
// is identity and the key is cheap.

import { mapGraph } from "../ir/graph.js";
import type { Graph, Node } from "../ir/node.js";
import { remake } from "../ops/make.js";
import type { Pass } from "./pass.js";

const ids = new WeakMap<Node, number>();
let nextId = 0;
const idOf = (n: Node) => {
  let id = ids.get(n);
  if (id === undefined) ids.set(n, (id = nextId++));
  return id;
};

export function cse(g: Graph): Graph {
  const table = new Map<string, Node>();
  return mapGraph(g, (node, inputs) => {
    const n = remake(node, inputs);
    // Inputs are distinct by position in the signature even when they look alike.
    if (n.op === "input") return n;
    const key = `${n.op}|${n.dtype}|${n.shape.join(",")}|${JSON.stringify(n.attrs)}|${n.inputs.map(idOf).join(",")}`;
    const seen = table.get(key);
    if (seen) return seen;
    table.set(key, n);
    return n;
  });
}

export const CSE: Pass = { name: "cse", run: cse };
