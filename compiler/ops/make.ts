// Node construction: every node in every graph is made here, so every node
// has passed its op's type rule.
//
// The source location is dynamically scoped: the frontend wraps each call it
// evaluates in `atLoc`, and autodiff wraps each VJP in the location of the
// forward node, so that helpers build nodes without threading locations through.

import { newNode, type Node, type NodeOf, type Op, type OpAttrs, type SourceLoc } from "../ir/node.js";
import { inferType } from "../../runtime/program/shapes/index.js";

let currentLoc: SourceLoc | undefined;

export function atLoc<T>(loc: SourceLoc | undefined, f: () => T): T {
  const saved = currentLoc;
  currentLoc = loc ?? saved;
  try {
    return f();
  } finally {
    currentLoc = saved;
  }
}

export function make<O extends Op>(op: O, inputs: readonly Node[], attrs: OpAttrs[O]): NodeOf<O> {
  const type = inferType(op, inputs, attrs);
  return newNode(op, inputs, attrs, type, currentLoc);
}

/** The same op and attributes over new inputs (a pass rebuilding a node), keeping its location. */
export function remake(node: Node, inputs: readonly Node[]): Node {
  if (inputs.length === node.inputs.length && inputs.every((x, i) => x === node.inputs[i])) return node;
  return atLoc(node.loc, () => make(node.op, inputs, node.attrs as never) as Node);
}
