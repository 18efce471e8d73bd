// Reductions remove the listed axes. `max` splits the gradient evenly among
// tied maxima (as JAX does), so the rule is symmetric and the same on every
// backend; `argmax` returns the first maximal index and passes no gradient.

import { formatShape } from "../../runtime/program/dim.js";
import type { TensorType } from "../ir/node.js";
import { binary, broadcastInDim, cast, div, mul, reduce } from "./build.js";
import { ShapeError, type OpTable } from "./types.js";

function checkAxes(op: string, x: TensorType, axes: readonly number[]): void {
  const rank = x.shape.length;
  axes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= rank || (i > 0 && a <= axes[i - 1]!)) {
      throw new ShapeError(`${op}: axes [${axes.join(", ")}] are not increasing axes of ${formatShape(x.shape)}`, `axes run from 0 to ${rank - 1}`);
    }
  });
}

function reduced(x: TensorType, axes: readonly number[]): TensorType {
  return { shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype };
}

const kept = (rank: number, axes: readonly number[]) => [...Array(rank).keys()].filter((i) => !axes.includes(i));

export const REDUCTIONS: OpTable<"sum" | "max" | "argmax"> = {
  sum: {
    arity: 1,
    infer: ([x], { axes }) => {
      checkAxes("sum", x!, axes);
      return reduced(x!, axes);
    },
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      return [broadcastInDim(g, x.shape, kept(x.shape.length, node.attrs.axes))];
    },
  },
  max: {
    arity: 1,
    infer: ([x], { axes }) => {
      checkAxes("max", x!, axes);
      return reduced(x!, axes);
    },
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      if (x.dtype !== "f32") return [undefined];
      const dims = kept(x.shape.length, node.attrs.axes);
      const mask = cast(binary("equal", x, broadcastInDim(node, x.shape, dims)), "f32");
      const share = div(g, reduce("sum", mask, node.attrs.axes));
      return [mul(broadcastInDim(share, x.shape, dims), mask)];
    },
  },
  argmax: {
    arity: 1,
    infer: ([x], { axis }) => {
      checkAxes("argmax", x!, [axis]);
      return { shape: reduced(x!, [axis]).shape, dtype: "i32" };
    },
    vjp: () => [undefined],
  },
};
