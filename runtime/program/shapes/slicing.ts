// Slicing: slice takes a box x[begin : begin + size] out of its input, pad
// surrounds its input with a constant. They are each other's gradient, and
// both are index maps (fusion computes them where they are read). A symbolic
// axis (the batch) has no static size to cut or grow, so it passes whole.

import { dimEq, formatShape, isStatic, type Dim } from "../dim.js";
import { operand, ShapeError, type TypeRules } from "./rule.js";

const isCount = (v: number) => Number.isSafeInteger(v) && v >= 0;

export const SLICING_TYPES: TypeRules<"slice" | "pad"> = {
  slice: {
    arity: 1,
    infer: (xs, { begin, size }) => {
      const x = operand(xs, 0);
      const rank = x.shape.length;
      if (begin.length !== rank || size.length !== rank) {
        throw new ShapeError(`slice of ${formatShape(x.shape)} needs a begin and a size for each of its ${rank} axes, got ${begin.length} and ${size.length}`, "give one entry per axis");
      }
      x.shape.forEach((d, i) => {
        const b = begin[i]!;
        const s = size[i]!;
        if (!isStatic(d)) {
          if (b !== 0 || !dimEq(s, d)) {
            throw new ShapeError(`slice: axis ${i} of ${formatShape(x.shape)} has the symbolic size ${d} and can only be taken whole, not from ${b} with size ${s}`, "slice along a static axis, or begin at 0 with size -1 on this one");
          }
          return;
        }
        if (!isCount(b) || typeof s !== "number" || !isCount(s) || b + s > d) {
          throw new ShapeError(`slice: [${b}, ${b} + ${s}) is not inside axis ${i} of ${formatShape(x.shape)} (size ${d})`, `on this axis begin + size must be at most ${d}, both non-negative`);
        }
      });
      return { shape: size, dtype: x.dtype };
    },
  },
  pad: {
    arity: 1,
    infer: (xs, { before, after, value }) => {
      const x = operand(xs, 0);
      const rank = x.shape.length;
      if (before.length !== rank || after.length !== rank) {
        throw new ShapeError(`pad of ${formatShape(x.shape)} needs [before, after] for each of its ${rank} axes, got ${before.length} and ${after.length}`, "give one pair per axis, e.g. [[0, 0], [1, 1]]");
      }
      if (typeof value !== "number" || (x.dtype === "i32" && !Number.isInteger(value))) {
        throw new ShapeError(`pad: the fill value ${value} is not a ${x.dtype}`, x.dtype === "i32" ? "pad an i32 tensor with an integer" : "pass a number");
      }
      const shape = x.shape.map((d, i): Dim => {
        const b = before[i]!;
        const a = after[i]!;
        if (!isCount(b) || !isCount(a)) throw new ShapeError(`pad: [${b}, ${a}] on axis ${i} is not a pair of non-negative integers`, "padding adds elements; to remove some, use slice");
        if (isStatic(d)) return d + b + a;
        if (b !== 0 || a !== 0) throw new ShapeError(`pad: axis ${i} of ${formatShape(x.shape)} has the symbolic size ${d} and cannot be padded`, "pad static axes only ([0, 0] on this one)");
        return d;
      });
      return { shape, dtype: x.dtype };
    },
  },
};
