// Scans: cumsum keeps its input's shape and dtype.

import { formatShape } from "../dim.js";
import { operand, ShapeError, type TypeRules } from "./rule.js";

export const SCAN_TYPES: TypeRules<"cumsum"> = {
  cumsum: {
    arity: 1,
    infer: (xs, { axis }) => {
      const x = operand(xs, 0);
      if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
        throw new ShapeError(`cumsum: axis ${axis} is out of range for ${formatShape(x.shape)} (rank ${x.shape.length})`, x.shape.length === 0 ? "a scalar has no axis to scan" : `axes run from ${-x.shape.length} to ${x.shape.length - 1}`);
      }
      return x;
    },
  },
};
