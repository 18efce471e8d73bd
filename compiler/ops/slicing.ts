// Slicing (type rules: runtime/program/shapes/slicing.ts). Each is the other's
// gradient: a slice's cotangent is padded back with zeros to the input's
// shape, a pad's cotangent is sliced back to the input's box, so both
// differentiate any number of times.

import { pad, slice } from "./build.js";
import type { OpTable } from "./types.js";

export const SLICING: OpTable<"slice" | "pad"> = {
  slice: {
    vjp: (node, g) => {
      const x = node.inputs[0]!;
      const { begin, size } = node.attrs;
      const after = x.shape.map((d, i) => (typeof d === "number" ? d - begin[i]! - (size[i] as number) : 0));
      return [pad(g, begin, after, 0)];
    },
  },
  pad: { vjp: (node, g) => [slice(g, node.attrs.before, node.inputs[0]!.shape)] },
};
