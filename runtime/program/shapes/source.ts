// Sources: the leaves of a graph, typed by their own attributes. `random` is
// one too, drawn from a key input (its values are a function of the key and
// each element's index, see ../philox.ts).

import { canonical, formatShape, type Shape } from "../dim.js";
import { operand, ShapeError, type TypeRules } from "./rule.js";

/** The first entry of a shape that is neither a size >= 0 nor a symbolic size ("batch", "2*batch"). */
function badDim(shape: Shape): string | undefined {
  for (const d of shape) {
    if (typeof d === "number" ? !Number.isSafeInteger(d) || d < 0 : !wellFormed(d)) return String(d);
  }
  return undefined;
}

function wellFormed(d: string): boolean {
  try {
    canonical(d);
    return true;
  } catch {
    return false;
  }
}

export const SOURCE_TYPES: TypeRules<"input" | "param" | "const" | "iota" | "random"> = {
  input: { arity: 0, infer: (_, { shape, dtype }) => ({ shape, dtype }) },
  param: { arity: 0, infer: (_, { shape }) => ({ shape, dtype: "f32" }) },
  const: { arity: 0, infer: (_, { shape, dtype }) => ({ shape, dtype }) },
  iota: {
    arity: 0,
    infer: (_, { shape, axis }) => {
      if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
        throw new ShapeError(`axis ${axis} is out of range for a tensor of rank ${shape.length}`, `axes run from 0 to ${shape.length - 1}`);
      }
      return { shape, dtype: "i32" };
    },
  },
  random: {
    arity: 1,
    infer: (xs, { shape, salt }) => {
      const key = operand(xs, 0);
      if (key.dtype !== "i32" || key.shape.length !== 1 || key.shape[0] !== 2) {
        throw new ShapeError(`random: the key must be i32[2], got ${key.dtype}${formatShape(key.shape)}`, "a key is two 32-bit integers (read as unsigned)");
      }
      if (!Number.isInteger(salt) || salt < 0 || salt >= 2 ** 32) {
        throw new ShapeError(`random: salt ${salt} is not an integer in [0, 2^32)`, "each call site draws with its own salt, a 32-bit unsigned integer");
      }
      const bad = badDim(shape);
      if (bad !== undefined) throw new ShapeError(`random: ${formatShape(shape)} is not a shape (${bad})`, "sizes are integers >= 0 or symbolic sizes such as batch");
      return { shape, dtype: "f32" };
    },
  },
};
