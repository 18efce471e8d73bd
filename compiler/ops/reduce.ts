// Reductions remove the listed axes (type rules: runtime/program/shapes/reduce.ts).
// `max` splits the gradient evenly among tied maxima (as JAX does), so the
// rule is symmetric and the same on every backend; `argmax` returns the first
// maximal index and passes no gradient.

import { binary, broadcastInDim, cast, div, mul, reduce } from "./build.js";
import type { OpTable } from "./types.js";

const kept = (rank: number, axes: readonly number[]) => [...Array(rank).keys()].filter((i) => !axes.includes(i));

export const REDUCTIONS: OpTable<"sum" | "max" | "argmax"> = {
  sum: {
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      return [broadcastInDim(g, x.shape, kept(x.shape.length, node.attrs.axes))];
    },
  },
  max: {
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      if (x.dtype !== "f32") return [undefined];
      const dims = kept(x.shape.length, node.attrs.axes);
      const mask = cast(binary("equal", x, broadcastInDim(node, x.shape, dims)), "f32");
      const share = div(g, reduce("sum", mask, node.attrs.axes));
      return [mul(broadcastInDim(share, x.shape, dims), mask)];
    },
  },
  argmax: { vjp: () => [undefined] },
};
