// Reductions remove the listed axes (increasing, in range); argmax gives i32.

import { formatShape } from "../dim.js";
import { operand, ShapeError, type TensorType, type TypeRules } from "./rule.js";

function checkAxes(op: string, x: TensorType, axes: readonly number[]): void {
  const rank = x.shape.length;
  axes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= rank || (i > 0 && a <= (axes[i - 1] ?? -1))) {
      throw new ShapeError(`${op}: axes [${axes.join(", ")}] are not increasing axes of ${formatShape(x.shape)}`, `axes run from 0 to ${rank - 1}`);
    }
  });
}

function reduced(op: string, x: TensorType, axes: readonly number[]): TensorType {
  checkAxes(op, x, axes);
  return { shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype };
}

export const REDUCE_TYPES: TypeRules<"sum" | "max" | "argmax"> = {
  sum: { arity: 1, infer: (xs, { axes }) => reduced("sum", operand(xs, 0), axes) },
  max: { arity: 1, infer: (xs, { axes }) => reduced("max", operand(xs, 0), axes) },
  argmax: { arity: 1, infer: (xs, { axis }) => ({ shape: reduced("argmax", operand(xs, 0), [axis]).shape, dtype: "i32" }) },
};
