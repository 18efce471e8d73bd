// Graph -> program: numbers the nodes in topological order and drops source
// locations, giving the plain data that the runtime executes and artifacts store.

import type { GraphProgram, ProgramNode } from "../../runtime/program/program.js";
import { graphNodes } from "./graph.js";
import type { Graph } from "./node.js";

export function toProgram(g: Graph): GraphProgram {
  const nodes = graphNodes(g);
  const index = new Map(nodes.map((n, i) => [n, i]));
  return {
    name: g.name,
    nodes: nodes.map((n) => ({ op: n.op, inputs: n.inputs.map((i) => index.get(i)!), attrs: n.attrs, shape: n.shape, dtype: n.dtype }) as ProgramNode),
    inputs: g.inputs.map((i) => ({ name: i.attrs.name, node: index.get(i)! })),
    outputs: g.outputs.map((o) => ({ name: o.name, node: index.get(o.node)! })),
  };
}
