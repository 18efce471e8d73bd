// Movement: reshape, broadcast (XLA's broadcast_in_dim), transpose. Each is a
// view of its input's elements; each gradient moves the cotangent back.

import { dimEq, formatShape, numel } from "../../runtime/program/dim.js";
import { reshape, transpose, unbroadcast } from "./build.js";
import { ShapeError, type OpTable } from "./types.js";

export const MOVEMENT: OpTable<"reshape" | "broadcast" | "transpose"> = {
  reshape: {
    arity: 1,
    infer: ([x], { shape }) => {
      if (!dimEq(numel(x!.shape), numel(shape))) {
        throw new ShapeError(
          `cannot reshape ${formatShape(x!.shape)} (${numel(x!.shape)} elements) to ${formatShape(shape)} (${numel(shape)} elements)`,
          "a reshape keeps the element count; use -1 for the dimension to infer",
        );
      }
      return { shape, dtype: x!.dtype };
    },
    vjp: (node, g) => [reshape(g, node.inputs[0]!.shape)],
  },
  broadcast: {
    arity: 1,
    infer: ([x], { shape, dims }) => {
      const ok =
        dims.length === x!.shape.length &&
        dims.every((d, i) => Number.isInteger(d) && d >= 0 && d < shape.length && (i === 0 || d > dims[i - 1]!)) &&
        x!.shape.every((d, i) => d === 1 || dimEq(d, shape[dims[i]!]!));
      if (!ok) throw new ShapeError(`cannot broadcast ${formatShape(x!.shape)} to ${formatShape(shape)}`, "sizes must match or be 1");
      return { shape, dtype: x!.dtype };
    },
    vjp: (node, g) => [unbroadcast(g, node.inputs[0]!.shape, node.attrs.dims)],
  },
  transpose: {
    arity: 1,
    infer: ([x], { perm }) => {
      const rank = x!.shape.length;
      if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        throw new ShapeError(`transpose: [${perm.join(", ")}] is not a permutation of the ${rank} axes of ${formatShape(x!.shape)}`, `list each of 0..${rank - 1} once`);
      }
      return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
    },
    vjp: (node, g) => {
      const inverse: number[] = [];
      node.attrs.perm.forEach((p, i) => (inverse[p] = i));
      return [transpose(g, inverse)];
    },
  },
};
