// Reverse-mode differentiation as a graph-to-graph transform.
//
// From a graph with a scalar output, build new nodes for the gradient of that
// output with respect to every parameter (and, on request, float inputs), by
// walking the nodes in reverse topological order and applying each primitive's
// VJP rule (compiler/ops/<family>.ts) to the accumulated cotangent. The result
// is an ordinary graph: it can be simplified, fused, lowered, and even
// differentiated again. Nothing is recorded at run time.

import { formatShape, shapeEq } from "../../runtime/program/dim.js";
import { gradOutputName } from "../../runtime/program/model.js";
import { compileError } from "../frontend/diagnostics.js";
import { paramsOf, topoSort } from "../ir/graph.js";
import type { Graph, Node, Output } from "../ir/node.js";
import { typeString } from "../ir/print.js";
import { add, full, zerosLike } from "../ops/build.js";
import { atLoc } from "../ops/make.js";
import { OP_DEFS } from "../ops/registry.js";
import { NotDifferentiableError } from "../ops/types.js";

export interface GradOptions {
  /** The scalar output to differentiate; by default the graph's only output. */
  readonly output?: string;
  /** Float inputs to differentiate with respect to, besides the parameters. */
  readonly inputs?: readonly string[];
  /** Parameters not to differentiate with respect to (non-trainable state). */
  readonly frozen?: ReadonlySet<string>;
}

/** The name of the output holding the gradient with respect to a parameter or input (the runtime reads it too). */
export const gradName = gradOutputName;

export function grad(g: Graph, options: GradOptions = {}): Graph {
  const out = options.output === undefined ? g.outputs.length === 1 ? g.outputs[0] : undefined : g.outputs.find((o) => o.name === options.output);
  if (!out) throw new Error(`grad: graph '${g.name}' has no output ${options.output ?? "(it has several; name one)"}`);
  if (out.node.shape.length !== 0 || out.node.dtype !== "f32") {
    throw compileError("DLC3006", `cannot differentiate ${typeString(out.node)}: only an f32 scalar has a gradient`, "reduce the output to a scalar first, e.g. with mean()", spanAt(out.node));
  }
  const params = paramsOf(g).filter((p) => !options.frozen?.has(p.attrs.name));
  const inputs = (options.inputs ?? []).map((name) => {
    const i = g.inputs.find((x) => x.attrs.name === name);
    if (!i || i.dtype !== "f32") throw new Error(`grad: '${name}' is not an f32 input of '${g.name}'`);
    return i;
  });
  const wrt: Node[] = [...params, ...inputs];
  const cotangents = backpropagate(out.node, new Set(wrt));
  const gradOutputs: Output[] = wrt.map((leaf) => ({
    name: gradName(leaf.op === "param" ? leaf.attrs.name : (leaf.attrs as { name: string }).name),
    node: cotangents.get(leaf) ?? atLoc(leaf.loc, () => zerosLike(leaf)),
  }));
  return { name: `${g.name}.grad`, inputs: g.inputs, outputs: [...g.outputs, ...gradOutputs] };
}

/** Cotangents of every node between `wrt` and `root`, seeded with d root / d root = 1. */
function backpropagate(root: Node, wrt: ReadonlySet<Node>): Map<Node, Node> {
  const order = topoSort([root]);
  // Only nodes that depend on something we differentiate with respect to need a cotangent.
  const live = new Set<Node>();
  for (const n of order) if (wrt.has(n) || n.inputs.some((i) => live.has(i))) live.add(n);
  const ct = new Map<Node, Node>([[root, atLoc(root.loc, () => full(1, []))]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const g = ct.get(n);
    if (!g || n.inputs.length === 0) continue;
    let contributions: readonly (Node | undefined)[];
    try {
      contributions = atLoc(n.loc, () => OP_DEFS[n.op].vjp(n as never, g));
    } catch (e) {
      if (e instanceof NotDifferentiableError) throw compileError("DLC3006", e.message, e.hint, spanAt(n));
      throw e;
    }
    n.inputs.forEach((input, i) => {
      const c = contributions[i];
      if (!c || !live.has(input) || input.dtype !== "f32") return;
      if (!shapeEq(c.shape, input.shape)) {
        throw new Error(`internal: the VJP of ${n.op} gave input ${i} a ${formatShape(c.shape)} cotangent for a ${formatShape(input.shape)} input`);
      }
      const prev = ct.get(input);
      ct.set(input, prev ? atLoc(input.loc, () => add(prev, c)) : c);
    });
  }
  return ct;
}

function spanAt(n: Node) {
  return n.loc ? { ...n.loc, length: 1 } : undefined;
}
