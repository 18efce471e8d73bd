// Sources: the leaves of a graph. They have no inputs, hence no gradient rule
// beyond the empty list; autodiff reads the gradient of a `param` (or a
// float `input`) off its accumulated cotangent.

import type { OpTable } from "./types.js";
import { normalizeAxis } from "./build.js";

export const SOURCES: OpTable<"input" | "param" | "const" | "iota"> = {
  input: { arity: 0, infer: (_, { shape, dtype }) => ({ shape, dtype }), vjp: () => [] },
  param: { arity: 0, infer: (_, { shape }) => ({ shape, dtype: "f32" }), vjp: () => [] },
  const: { arity: 0, infer: (_, { shape, dtype }) => ({ shape, dtype }), vjp: () => [] },
  iota: {
    arity: 0,
    infer: (_, { shape, axis }) => {
      normalizeAxis(axis, shape.length);
      return { shape, dtype: "i32" };
    },
    vjp: () => [],
  },
};
