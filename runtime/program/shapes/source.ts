// Sources: the leaves of a graph, typed by their own attributes.

import { ShapeError, type TypeRules } from "./rule.js";

export const SOURCE_TYPES: TypeRules<"input" | "param" | "const" | "iota"> = {
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
};
