// Movement: reshape, broadcast (XLA's broadcast_in_dim), transpose (type
// rules: runtime/program/shapes/movement.ts). Each is a view of its input's
// elements; each gradient moves the cotangent back.

import { reshape, transpose, unbroadcast } from "./build.js";
import type { OpTable } from "./types.js";

export const MOVEMENT: OpTable<"reshape" | "broadcast" | "transpose"> = {
  reshape: { vjp: (node, g) => [reshape(g, node.inputs[0]!.shape)] },
  broadcast: { vjp: (node, g) => [unbroadcast(g, node.inputs[0]!.shape, node.attrs.dims)] },
  transpose: {
    vjp: (node, g) => {
      const inverse: number[] = [];
      node.attrs.perm.forEach((p, i) => (inverse[p] = i));
      return [transpose(g, inverse)];
    },
  },
};
