// Sources: the leaves of a graph. They have no inputs, hence no gradient rule
// beyond the empty list; autodiff reads the gradient of a `param` (or a
// float `input`) off its accumulated cotangent. `random` has one input, an
// i32 key, that nothing is differentiated with respect to.

import type { OpTable } from "./types.js";

export const SOURCES: OpTable<"input" | "param" | "const" | "iota" | "random"> = {
  input: { vjp: () => [] },
  param: { vjp: () => [] },
  const: { vjp: () => [] },
  iota: { vjp: () => [] },
  random: { vjp: () => [undefined] },
};
