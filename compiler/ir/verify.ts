// The IR verifier: every node's type is what its op's rule gives for its
// inputs, inputs are declared, parameters are consistent. Tests run it after
// every pass.

import { formatShape, shapeEq } from "../../runtime/program/dim.js";
import { TYPE_RULES } from "../../runtime/program/shapes/index.js";
import { graphNodes } from "./graph.js";
import type { Graph, Node } from "./node.js";
import { opString, typeString } from "./print.js";

export class VerifyError extends Error {}

export function verifyGraph(g: Graph): void {
  const problems: string[] = [];
  const declared = new Set<Node>(g.inputs);
  const params = new Map<string, Node>();
  const names = new Set<string>();
  for (const o of g.outputs) {
    if (names.has(o.name)) problems.push(`output '${o.name}' appears twice`);
    names.add(o.name);
  }
  for (const n of graphNodes(g)) {
    const where = `${opString(n)} (${typeString(n)})`;
    const def = TYPE_RULES[n.op];
    if (n.inputs.length !== def.arity) {
      problems.push(`${where}: ${n.inputs.length} inputs, expected ${def.arity}`);
      continue;
    }
    try {
      const t = def.infer(n.inputs, n.attrs as never);
      if (!shapeEq(t.shape, n.shape) || t.dtype !== n.dtype) problems.push(`${where}: the op's rule gives ${t.dtype}${formatShape(t.shape)}`);
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
    if (n.op === "input" && !declared.has(n)) problems.push(`input '${n.attrs.name}' is used but not an input of the graph`);
    if (n.op === "param") {
      const prev = params.get(n.attrs.name);
      if (prev && (!shapeEq(prev.shape, n.shape) || JSON.stringify(prev.attrs) !== JSON.stringify(n.attrs))) {
        problems.push(`param '${n.attrs.name}' appears with two different declarations`);
      }
      params.set(n.attrs.name, n);
    }
  }
  if (problems.length > 0) throw new VerifyError(`graph '${g.name}' is invalid:\n  ${problems.join("\n  ")}`);
}
