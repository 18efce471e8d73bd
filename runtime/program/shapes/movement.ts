// Movement: reshape keeps the element count, broadcast (XLA's
// broadcast_in_dim) maps each input axis to an output axis of equal size or
// from size 1, transpose permutes.

import { dimEq, formatShape, numel } from "../dim.js";
import { operand, ShapeError, type TypeRules } from "./rule.js";

export const MOVEMENT_TYPES: TypeRules<"reshape" | "broadcast" | "transpose"> = {
  reshape: {
    arity: 1,
    infer: (xs, { shape }) => {
      const x = operand(xs, 0);
      if (!dimEq(numel(x.shape), numel(shape))) {
        throw new ShapeError(
          `cannot reshape ${formatShape(x.shape)} (${numel(x.shape)} elements) to ${formatShape(shape)} (${numel(shape)} elements)`,
          "a reshape keeps the element count; use -1 for the dimension to infer",
        );
      }
      return { shape, dtype: x.dtype };
    },
  },
  broadcast: {
    arity: 1,
    infer: (xs, { shape, dims }) => {
      const x = operand(xs, 0);
      const ok =
        dims.length === x.shape.length &&
        dims.every((d, i) => Number.isInteger(d) && d >= 0 && d < shape.length && (i === 0 || d > (dims[i - 1] ?? -1))) &&
        x.shape.every((d, i) => {
          const to = shape[dims[i] ?? -1];
          return to !== undefined && (d === 1 || dimEq(d, to));
        });
      if (!ok) throw new ShapeError(`cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`, "sizes must match or be 1");
      return { shape, dtype: x.dtype };
    },
  },
  transpose: {
    arity: 1,
    infer: (xs, { perm }) => {
      const x = operand(xs, 0);
      const rank = x.shape.length;
      if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        throw new ShapeError(`transpose: [${perm.join(", ")}] is not a permutation of the ${rank} axes of ${formatShape(x.shape)}`, `list each of 0..${rank - 1} once`);
      }
      return { shape: perm.map((p) => x.shape[p] ?? 0), dtype: x.dtype };
    },
  },
};
