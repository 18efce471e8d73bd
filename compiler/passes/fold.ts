// Constant folding. A `const` node is a tensor filled with one value, so an
// elementwise op on constants is a constant, computed with the scalar function
// the CPU loops are generated from (one definition of what each op means,
// runtime/program/elementwise.ts); movement of a
// constant is a constant of the new shape (a pad only when it fills with the same value); a reduction of a constant over
// static axes is a constant. Symbolic values (`const batch`) are left alone.

import { ELEMENTWISE, isElementwise, scalarFunction } from "../../runtime/program/elementwise.js";
import { mapGraph } from "../ir/graph.js";
import type { Graph, Node } from "../ir/node.js";
import { full } from "../ops/build.js";
import { atLoc, remake } from "../ops/make.js";
import type { Pass } from "./pass.js";

function constValue(n: Node): number | undefined {
  return n.op === "const" && typeof n.attrs.value === "number" ? n.attrs.value : undefined;
}

/** The folded value of `n` over constant inputs, or undefined. */
function foldedValue(n: Node): number | undefined {
  const vs = n.inputs.map(constValue);
  if (n.inputs.length === 0 || vs.some((v) => v === undefined)) return undefined;
  const [a] = vs as number[];
  if (isElementwise(n.op)) return ELEMENTWISE[n.op].identity ? a : scalarFunction(n.op, n.dtype)(...(vs as number[]));
  switch (n.op) {
    case "reshape":
    case "broadcast":
    case "transpose":
    case "slice":
    case "max":
      return a;
    case "pad":
      return a === n.attrs.value ? a : undefined;
    case "sum": {
      const x = n.inputs[0]!;
      let count = 1;
      for (const axis of n.attrs.axes) {
        const d = x.shape[axis]!;
        if (typeof d !== "number") return a === 0 ? 0 : undefined;
        count *= d;
      }
      return a! * count;
    }
  }
  return undefined;
}

export function fold(g: Graph): Graph {
  return mapGraph(g, (node, inputs) => {
    const n = remake(node, inputs);
    const v = foldedValue(n);
    if (v === undefined || (n.dtype === "i32" && !Number.isInteger(v))) return n;
    return atLoc(n.loc, () => full(v, n.shape, n.dtype));
  });
}

export const FOLD: Pass = { name: "fold", run: fold };
