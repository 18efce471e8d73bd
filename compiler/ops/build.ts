// The tensor algebra that the frontend's library and the VJP rules build with.
//
// Thin, typed constructors over `make`, plus the NumPy conventions that the
// primitives leave out on purpose: implicit broadcasting, dtype promotion,
// negative axes. Primitives stay strict (equal shapes, equal dtypes), so every
// broadcast and cast is an explicit node that autodiff and fusion can see.

import { divDim, dimEq, mulDim, numel, type Dim, type Shape } from "../../runtime/program/dim.js";
import type { BinaryOp, DType, UnaryOp } from "../../runtime/program/ops.js";
import type { Node } from "../ir/node.js";
import { make } from "./make.js";
import { ShapeError } from "./types.js";

// ---------------------------------------------------------------- sources and casts

export function full(value: number | Dim, shape: Shape, dtype: DType = "f32"): Node {
  return make("const", [], { value: typeof value === "number" && dtype === "i32" ? Math.trunc(value) : value, shape, dtype });
}

export function scalar(value: number | Dim, dtype: DType = "f32"): Node {
  return full(value, [], dtype);
}

export function zerosLike(x: Node): Node {
  return full(0, x.shape, x.dtype);
}

export function cast(x: Node, to: DType): Node {
  return x.dtype === to ? x : make("cast", [x], { to });
}

export function iota(shape: Shape, axis: number): Node {
  return make("iota", [], { axis, shape });
}

/**
 * Uniform values in [0, 1) of `shape`, drawn from `key` (i32[2]) at counter
 * (flat index, salt, 0, 0): the same bits on every backend. Call sites that
 * share a key need different salts to draw different values.
 */
export function random(key: Node, shape: Shape, salt: number): Node {
  return make("random", [key], { shape, salt });
}

// ---------------------------------------------------------------- elementwise (equal shapes)

export const unary = (op: UnaryOp, x: Node): Node => make(op, [x], {});
export const binary = (op: BinaryOp, a: Node, b: Node): Node => make(op, [a, b], {});
export const where = (c: Node, a: Node, b: Node): Node => make("where", [c, a, b], {});

export const neg = (x: Node) => unary("neg", x);
export const add = (a: Node, b: Node) => binary("add", a, b);
export const sub = (a: Node, b: Node) => binary("sub", a, b);
export const mul = (a: Node, b: Node) => binary("mul", a, b);
export const div = (a: Node, b: Node) => binary("div", a, b);

/** x * c for a number c, as a node of x's shape. */
export function scale(x: Node, c: number): Node {
  return mul(x, full(c, x.shape, x.dtype));
}

// ---------------------------------------------------------------- movement

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`axis ${axis} is out of range for a tensor of rank ${rank}`, `axes run from ${-rank} to ${rank - 1}`);
  }
  return a;
}

export function normalizeAxes(axes: readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const out = [...new Set(axes.map((a) => normalizeAxis(a, rank)))].sort((x, y) => x - y);
  if (out.length !== axes.length) throw new ShapeError(`repeated axis in [${axes.join(", ")}]`, "list each axis once");
  return out;
}

export function reshape(x: Node, shape: Shape): Node {
  if (x.shape.length === shape.length && x.shape.every((d, i) => dimEq(d, shape[i]!))) return x;
  return make("reshape", [x], { shape });
}

/** Resolves one -1 entry of a requested shape against the element count of `from`. */
export function resolveReshape(from: Shape, requested: readonly Dim[]): Dim[] {
  const holes = requested.filter((d) => d === -1).length;
  if (holes > 1) throw new ShapeError(`reshape to [${requested.join(", ")}] has more than one -1`, "at most one dimension can be inferred");
  if (holes === 0) return [...requested];
  const known = numel(requested.filter((d) => d !== -1));
  const inferred = divDim(numel(from), known);
  if (inferred === undefined) {
    throw new ShapeError(
      `cannot reshape [${from.join(", ")}] to [${requested.join(", ")}]: ${numel(from)} elements do not divide into parts of ${known}`,
      "the product of the given dimensions must divide the element count",
    );
  }
  return requested.map((d) => (d === -1 ? inferred : d));
}

export function transpose(x: Node, perm: readonly number[]): Node {
  if (perm.every((p, i) => p === i)) return x;
  return make("transpose", [x], { perm });
}

/** Swaps the last two axes. */
export function transposeLast(x: Node): Node {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return transpose(x, perm);
}

/** broadcast_in_dim: input axis i becomes output axis dims[i]. */
export function broadcastInDim(x: Node, shape: Shape, dims: readonly number[]): Node {
  if (x.shape.length === shape.length && x.shape.every((d, i) => dimEq(d, shape[i]!))) return x;
  return make("broadcast", [x], { shape, dims });
}

/** The NumPy broadcast of two shapes (aligned on the right), or a ShapeError naming the op. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (dimEq(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else {
      throw new ShapeError(
        `${op}: shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast`,
        `axis ${i - rank} is ${da} in one and ${db} in the other; sizes must match or be 1`,
      );
    }
  }
  return out;
}

/** NumPy broadcast_to. */
export function broadcastTo(x: Node, shape: Shape): Node {
  const offset = shape.length - x.shape.length;
  if (offset < 0) throw new ShapeError(`cannot broadcast [${x.shape.join(", ")}] to the smaller rank of [${shape.join(", ")}]`, "broadcasting adds axes on the left");
  broadcastShapes("broadcast", x.shape, shape);
  return broadcastInDim(x, shape, x.shape.map((_, i) => i + offset));
}

/** Sums `g` (of a broadcast's output shape) back to the shape `x` had before `broadcastInDim(x, shape, dims)`. */
export function unbroadcast(g: Node, inShape: Shape, dims: readonly number[]): Node {
  const keep = new Set<number>();
  dims.forEach((d, i) => {
    if (dimEq(inShape[i]!, g.shape[d]!)) keep.add(d);
  });
  const axes = g.shape.map((_, i) => i).filter((i) => !keep.has(i));
  return reshape(reduce("sum", g, axes), inShape);
}

// ---------------------------------------------------------------- reductions

export function reduce(op: "sum" | "max", x: Node, axes: readonly number[]): Node {
  if (axes.length === 0) return x;
  return make(op, [x], { axes });
}

/** The number of elements a reduction over `axes` combines, as a (possibly symbolic) size. */
export function countOf(shape: Shape, axes: readonly number[]): Dim {
  return axes.reduce<Dim>((n, a) => mulDim(n, shape[a]!), 1);
}

export function argmax(x: Node, axis: number): Node {
  return make("argmax", [x], { axis });
}

// ---------------------------------------------------------------- contractions

export function matmul(a: Node, b: Node, transA = false, transB = false): Node {
  return make("matmul", [a, b], { transA, transB });
}

// ---------------------------------------------------------------- slicing

/** x[begin : begin + size] per axis (the slice primitive); the whole of x is x itself. */
export function slice(x: Node, begin: readonly number[], size: Shape): Node {
  if (begin.every((b) => b === 0) && size.length === x.shape.length && size.every((s, i) => dimEq(s, x.shape[i]!))) return x;
  return make("slice", [x], { begin, size });
}

/** `before` and `after` elements of `value` around each axis (the pad primitive). */
export function pad(x: Node, before: readonly number[], after: readonly number[], value = 0): Node {
  if (before.every((b) => b === 0) && after.every((a) => a === 0) && before.length === x.shape.length) return x;
  return make("pad", [x], { before, after, value });
}
