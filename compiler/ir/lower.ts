// Graph -> program: numbers the nodes in topological order and keeps their
// source positions beside them, giving the plain data that the runtime
// executes and artifacts store.

import { basename } from "node:path";
import type { GraphProgram, Locations, ProgramNode } from "../../runtime/program/program.js";
import { graphNodes } from "./graph.js";
import type { Graph, Node } from "./node.js";

export function toProgram(g: Graph): GraphProgram {
  const nodes = graphNodes(g);
  const index = new Map(nodes.map((n, i) => [n, i]));
  return {
    name: g.name,
    nodes: nodes.map((n) => ({ op: n.op, inputs: n.inputs.map((i) => index.get(i)!), attrs: n.attrs, shape: n.shape, dtype: n.dtype }) as ProgramNode),
    inputs: g.inputs.map((i) => ({ name: i.attrs.name, node: index.get(i)! })),
    outputs: g.outputs.map((o) => ({ name: o.name, node: index.get(o.node)! })),
    locations: locationsOf(nodes),
  };
}

/** The nodes' source positions, files by base name (an artifact does not say where its author keeps the model). */
function locationsOf(nodes: readonly Node[]): Locations {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const at = nodes.map((n) => {
    if (!n.loc) return null;
    const file = basename(n.loc.file);
    let k = fileIndex.get(file);
    if (k === undefined) fileIndex.set(file, (k = files.push(file) - 1));
    return [k, n.loc.line, n.loc.col] as const;
  });
  return { files, nodes: at };
}
