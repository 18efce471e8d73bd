// Facts about graphs that later stages ask for.

import { graphNodes } from "./graph.js";
import type { Graph, Node } from "./node.js";

/**
 * The number of classes an integer input is compared against: the size of the
 * iota axis it meets in `equal` (oneHot and softmaxCrossEntropy build exactly
 * that). Undefined when the input is not used as class labels.
 */
export function classCount(g: Graph, input: string): number | undefined {
  const source = g.inputs.find((i) => i.attrs.name === input);
  if (!source || source.dtype !== "i32") return undefined;
  // Follow the label through broadcasts and reshapes to the comparisons it feeds.
  const derived = new Set<Node>([source]);
  let found: number | undefined;
  for (const n of graphNodes(g)) {
    if ((n.op === "broadcast" || n.op === "reshape") && derived.has(n.inputs[0]!)) derived.add(n);
    if (n.op === "equal") {
      const [a, b] = n.inputs as [Node, Node];
      const iota = derived.has(a) && b.op === "iota" ? b : derived.has(b) && a.op === "iota" ? a : undefined;
      if (iota && iota.op === "iota") {
        const size = iota.shape[iota.attrs.axis];
        if (typeof size === "number") found = Math.max(found ?? 0, size);
      }
    }
  }
  return found;
}
