// Gathers (type rules: runtime/program/shapes/gather.ts). gather's gradient
// with respect to the table is scatterAdd, which adds each slice of the
// cotangent at the position it was read from, so a row read twice gets both
// contributions; out-of-range indices are clamped in both, so the gradient
// goes where the value came from. Indices are integers: no gradient.
// scatterAdd is linear in its updates, and its adjoint is gather again.

import { make } from "./make.js";
import type { OpTable } from "./types.js";

export const GATHERS: OpTable<"gather" | "scatterAdd"> = {
  gather: {
    vjp: (node, g) => {
      const [table, indices] = node.inputs;
      const { axis } = node.attrs;
      if (table!.dtype !== "f32") return [undefined, undefined];
      return [make("scatterAdd", [g, indices!], { axis, size: table!.shape[axis]! }), undefined];
    },
  },
  scatterAdd: {
    vjp: (node, g) => [make("gather", [g, node.inputs[1]!], { axis: node.attrs.axis }), undefined],
  },
};
