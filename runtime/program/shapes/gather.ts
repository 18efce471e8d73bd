// Gathers: gather picks slices of a table along one axis by i32 indices (the
// indices' shape replaces that axis); scatterAdd, its adjoint, adds slices of
// updates into zeros of the table's shape at the same positions. Indices out
// of range are clamped to [0, n - 1] by the kernels, not refused here: they
// are data.

import { dimEq, formatShape, type Dim, type Shape } from "../dim.js";
import { operand, ShapeError, type TensorType, type TypeRules } from "./rule.js";

function checkAxis(op: string, axis: number, what: string, t: TensorType): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= t.shape.length) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for the ${what} ${formatShape(t.shape)} (rank ${t.shape.length})`, t.shape.length === 0 ? `the ${what} must have at least one axis` : `axes run from ${-t.shape.length} to ${t.shape.length - 1}`);
  }
}

function checkIndices(op: string, indices: TensorType): void {
  if (indices.dtype !== "i32") throw new ShapeError(`${op}: indices must be i32, got ${indices.dtype}${formatShape(indices.shape)}`, 'cast(indices, "i32") converts (fractions are truncated)');
}

/** The output shape of gather(table, indices) along `axis`. */
export function gatheredShape(table: Shape, indices: Shape, axis: number): Shape {
  return [...table.slice(0, axis), ...indices, ...table.slice(axis + 1)];
}

export const GATHER_TYPES: TypeRules<"gather" | "scatterAdd"> = {
  gather: {
    arity: 2,
    infer: (xs, { axis }) => {
      const table = operand(xs, 0);
      const indices = operand(xs, 1);
      checkIndices("gather", indices);
      checkAxis("gather", axis, "table", table);
      return { shape: gatheredShape(table.shape, indices.shape, axis), dtype: table.dtype };
    },
  },
  scatterAdd: {
    arity: 2,
    infer: (xs, { axis, size }) => {
      const updates = operand(xs, 0);
      const indices = operand(xs, 1);
      checkIndices("scatterAdd", indices);
      if (updates.dtype !== "f32") throw new ShapeError(`scatterAdd: updates must be f32, got ${updates.dtype}`, 'cast(x, "f32") converts');
      const rank = updates.shape.length - indices.shape.length + 1;
      if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
        throw new ShapeError(`scatterAdd: axis ${axis} is out of range for a table of rank ${rank}`, `axes run from 0 to ${rank - 1}`);
      }
      const at = updates.shape.slice(axis, axis + indices.shape.length);
      if (at.length !== indices.shape.length || !at.every((d, i) => dimEq(d, indices.shape[i] as Dim))) {
        throw new ShapeError(`scatterAdd: updates ${formatShape(updates.shape)} do not hold the indices' shape ${formatShape(indices.shape)} at axis ${axis}`, "pass the gradient of gather's output");
      }
      if (!(typeof size === "string" || (Number.isInteger(size) && size >= 1))) throw new ShapeError(`scatterAdd: size ${size} is not a positive size`, "the table's size along the axis");
      return { shape: [...updates.shape.slice(0, axis), size, ...updates.shape.slice(axis + indices.shape.length)], dtype: "f32" };
    },
  },
};
