// The model language's ops, built from primitives.
//
// These give the primitives NumPy manners (implicit broadcasting, dtype
// promotion, negative axes, keepDims) and define the composites (softmax,
// cross-entropy, layer norm, GELU) as plain primitive graphs: fusion, not a
// hand-written kernel, is what makes them fast.

import { dimEq, formatShape, type Dim, type Shape } from "../../runtime/program/dim.js";
import { ELEMENTWISE } from "../../runtime/program/elementwise.js";
import type { BinaryOp, DType, UnaryOp } from "../../runtime/program/ops.js";
import type { Node } from "../ir/node.js";
import {
  argmax as argmaxPrim,
  binary,
  broadcastInDim,
  broadcastShapes,
  broadcastTo,
  cast,
  countOf,
  full,
  iota,
  matmul as matmulPrim,
  normalizeAxes,
  pad as padPrim,
  slice as slicePrim,
  normalizeAxis,
  reduce,
  reshape,
  resolveReshape,
  unary,
  where as wherePrim,
} from "./build.js";
import { make } from "./make.js";
import { ShapeError } from "./types.js";
import { windowCount } from "../../runtime/program/shapes/index.js";

export type Operand = Node | number;

/** The dtype both operands of `op` are computed in. */
function commonDType(op: BinaryOp, a: Operand, b: Operand): DType {
  const dt = (x: Operand): DType => (typeof x === "number" ? (Number.isInteger(x) ? "i32" : "f32") : x.dtype);
  return dt(a) === "i32" && dt(b) === "i32" && !ELEMENTWISE[op].promoteInts ? "i32" : "f32";
}

function asNode(x: Operand, dtype: DType): Node {
  return typeof x === "number" ? full(x, [], dtype) : cast(x, dtype);
}

/** A binary op with NumPy broadcasting and promotion; numbers become constants of the result shape. */
export function binaryOp(op: BinaryOp, a: Operand, b: Operand): Node {
  const dtype = commonDType(op, a, b);
  const shapeOf = (x: Operand): Shape => (typeof x === "number" ? [] : x.shape);
  const shape = broadcastShapes(op, shapeOf(a), shapeOf(b));
  const spread = (x: Operand) => (typeof x === "number" ? full(x, shape, dtype) : broadcastTo(cast(x, dtype), shape));
  return binary(op, spread(a), spread(b));
}

export function unaryOp(op: UnaryOp, x: Operand): Node {
  const floatOnly = ELEMENTWISE[op].operands === "f32";
  return unary(op, asNode(x, floatOnly ? "f32" : typeof x === "number" ? "f32" : x.dtype));
}

export function where(c: Operand, a: Operand, b: Operand): Node {
  const dtype = commonDType("add", a, b) === "i32" ? "i32" : "f32";
  const shape = [c, a, b].reduce<Shape>((s, x) => broadcastShapes("where", s, typeof x === "number" ? [] : x.shape), []);
  const spread = (x: Operand, dt: DType) => (typeof x === "number" ? full(x, shape, dt) : broadcastTo(cast(x, dt), shape));
  const cond = typeof c === "number" ? full(c ? 1 : 0, shape, "i32") : broadcastTo(c.dtype === "i32" ? c : binary("greater", c, full(0, c.shape)), shape);
  return wherePrim(cond, spread(a, dtype), spread(b, dtype));
}

// ---------------------------------------------------------------- reductions

function keep(x: Node, reduced: Node, axes: readonly number[], keepDims: boolean): Node {
  return keepDims ? reshape(reduced, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : reduced;
}

export function sum(x: Node, axis?: readonly number[], keepDims = false): Node {
  const axes = normalizeAxes(axis, x.shape.length);
  return keep(x, reduce("sum", x, axes), axes, keepDims);
}

export function max(x: Node, axis?: readonly number[], keepDims = false): Node {
  const axes = normalizeAxes(axis, x.shape.length);
  return keep(x, reduce("max", x, axes), axes, keepDims);
}

export function min(x: Node, axis?: readonly number[], keepDims = false): Node {
  return unary("neg", max(unary("neg", x), axis, keepDims));
}

export function mean(x: Node, axis?: readonly number[], keepDims = false): Node {
  const axes = normalizeAxes(axis, x.shape.length);
  const s = keep(x, reduce("sum", cast(x, "f32"), axes), axes, keepDims);
  return binary("div", s, full(countOf(x.shape, axes), s.shape));
}

export function argmax(x: Node, axis = -1): Node {
  return argmaxPrim(x, normalizeAxis(axis, x.shape.length));
}

// ---------------------------------------------------------------- shapes

export function reshapeTo(x: Node, shape: readonly Dim[]): Node {
  return reshape(x, resolveReshape(x.shape, shape));
}

export function transpose(x: Node, perm?: readonly number[]): Node {
  const rank = x.shape.length;
  const p = perm ? perm.map((a) => normalizeAxis(a, rank)) : [...Array(rank).keys()].reverse();
  return p.every((a, i) => a === i) ? x : make("transpose", [x], { perm: p });
}

export function oneHot(labels: Node, depth: number): Node {
  if (labels.dtype !== "i32") throw new ShapeError(`oneHot needs i32 labels, got ${labels.dtype}`, "declare the labels as Tensor<[...], \"i32\">");
  if (!Number.isInteger(depth) || depth < 1) throw new ShapeError(`oneHot depth must be a positive integer, got ${depth}`, "pass the number of classes");
  const r = labels.shape.length;
  const shape = [...labels.shape, depth];
  const spread = broadcastInDim(labels, shape, [...Array(r).keys()]);
  return cast(binary("equal", spread, iota(shape, r)), "f32");
}

// ---------------------------------------------------------------- gathers and scans

/** A negative axis counted from the end; one out of range is left for the type rule to name as given. */
const fromEnd = (axis: number, rank: number) => (axis < 0 && axis >= -rank ? axis + rank : axis);

/** Slices of `table` along `axis` picked by i32 `indices` (clamped to [0, n - 1]): embeddings. */
export function gather(table: Node, indices: Node, axis = 0): Node {
  return make("gather", [table, indices], { axis: fromEnd(axis, table.shape.length) });
}

/** Running sums along `axis`. */
export function cumsum(x: Node, axis: number, exclusive = false, reverse = false): Node {
  return make("cumsum", [x], { axis: fromEnd(axis, x.shape.length), exclusive, reverse });
}

/**
 * x limited to [lo, hi], as minimum(maximum(x, lo), hi): a composite whose
 * gradient passes where lo < x < hi (maximum and minimum give a tie to their
 * second operand, the bound).
 */
export function clip(x: Operand, lo: Operand, hi: Operand): Node {
  return binaryOp("minimum", binaryOp("maximum", x, lo), hi);
}

// ---------------------------------------------------------------- linear algebra

/** NumPy matmul: 1-D operands are vectors, leading axes broadcast. */
export function matmul(a: Node, b: Node): Node {
  if (a.shape.length === 0 || b.shape.length === 0) throw new ShapeError("matmul: operands must have at least one axis", "use * for scalars");
  const va = a.shape.length === 1;
  const vb = b.shape.length === 1;
  const a2 = va ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = vb ? reshape(b, [b.shape[0]!, 1]) : b;
  const batchA = a2.shape.slice(0, -2);
  const batchB = b2.shape.slice(0, -2);
  const batch = broadcastShapes("matmul", batchA, batchB);
  const spread = (x: Node) => broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
  let out = matmulPrim(spread(a2), spread(b2));
  if (va || vb) out = reshape(out, [...batch, ...(va ? [] : [out.shape.at(-2)!]), ...(vb ? [] : [out.shape.at(-1)!])]);
  return out;
}

// Convolutions and pooling: ./windows.ts.
export { conv1d, conv2d, conv2dTranspose, depthwiseConv2d, pool, resolvePadding, type ConvOptions, type Padding, type TransposeOptions } from "./windows.js";

// ---------------------------------------------------------------- composites

export const relu = (x: Operand) => binaryOp("maximum", x, 0);

/**
 * e^-z capped at e^40, so that 1 + e^-z and the gradient's (1 + e^-z)^2 stay
 * finite (kernels may assume no Inf). Past the cap 1 / (1 + e^-z) is below
 * 4.3e-18, where the cap's absolute error lies too.
 */
const LOGISTIC_CAP = 40;
const expNegCapped = (z: Operand) => unaryOp("exp", binaryOp("minimum", unaryOp("neg", asNode(z, "f32")), LOGISTIC_CAP));

/**
 * 1 / (1 + e^-x): one exp and one division, which is cheaper than tanh's
 * form (1 + tanh(x/2)) / 2, and keeps its relative precision for negative x,
 * where 1 + tanh(x/2) cancels.
 */
export const sigmoid = (x: Operand) => binaryOp("div", 1, binaryOp("add", expNegCapped(x), 1));

/**
 * GELU. Exact: x/2 (1 + erf(x / sqrt 2)). Approximate (the default, as in
 * JAX): the tanh form x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
 * computed as the equal x / (1 + e^-2u) (sigmoid's reasons: an exp and a
 * division instead of a tanh, and no cancellation for negative x).
 */
export function gelu(x: Operand, approximate = true): Node {
  const xx = asNode(x, "f32");
  if (!approximate) return binaryOp("mul", binaryOp("mul", xx, 0.5), binaryOp("add", unaryOp("erf", binaryOp("mul", xx, Math.SQRT1_2)), 1));
  const cube = binaryOp("mul", binaryOp("mul", xx, xx), xx);
  const twoU = binaryOp("mul", binaryOp("add", xx, binaryOp("mul", cube, 0.044715)), 2 * Math.sqrt(2 / Math.PI));
  return binaryOp("div", xx, binaryOp("add", expNegCapped(twoU), 1));
}

/** log(sum(exp(x))), shifted by a max that passes no gradient (the shift cancels). */
export function logSumExp(x: Node, axis?: readonly number[], keepDims = false): Node {
  const axes = normalizeAxes(axis, x.shape.length);
  const m = make("stopGradient", [max(x, axes, true)], {});
  const shifted = binaryOp("sub", x, m);
  const lse = binaryOp("add", unaryOp("log", sum(unaryOp("exp", shifted), axes, true)), m);
  return keepDims ? lse : reshape(lse, x.shape.filter((_, i) => !axes.includes(i)));
}

export function logSoftmax(x: Node, axis = -1): Node {
  return binaryOp("sub", x, logSumExp(x, [axis], true));
}

export function softmax(x: Node, axis = -1): Node {
  const m = make("stopGradient", [max(x, [axis], true)], {});
  const e = unaryOp("exp", binaryOp("sub", x, m));
  return binaryOp("div", e, sum(e, [axis], true));
}

/** Mean over the batch of -log softmax(logits)[label]. */
export function softmaxCrossEntropy(logits: Node, labels: Node): Node {
  const r = logits.shape.length;
  const classes = logits.shape[r - 1];
  if (r < 1 || typeof classes !== "number") {
    throw new ShapeError(`softmaxCrossEntropy: logits ${formatShape(logits.shape)} need a static class axis last`, "logits are [..., classes]");
  }
  if (labels.shape.length !== r - 1 || formatShape(labels.shape) !== formatShape(logits.shape.slice(0, -1))) {
    throw new ShapeError(`softmaxCrossEntropy: labels ${formatShape(labels.shape)} do not fit logits ${formatShape(logits.shape)}`, "labels have the logits' shape without the class axis");
  }
  const x = cast(logits, "f32");
  const picked = sum(binaryOp("mul", oneHot(labels, classes), x), [-1]);
  return mean(binaryOp("sub", logSumExp(x, [-1]), picked));
}

export function mse(prediction: Operand, target: Operand): Node {
  const d = binaryOp("sub", prediction, target);
  return mean(binaryOp("mul", d, d));
}

/** Normalizes over the last axis to zero mean and unit variance. */
export function layerNorm(x: Node, eps = 1e-5): Node {
  const centered = binaryOp("sub", x, mean(x, [-1], true));
  const variance = mean(binaryOp("mul", centered, centered), [-1], true);
  return binaryOp("div", centered, unaryOp("sqrt", binaryOp("add", variance, eps)));
}


// ---------------------------------------------------------------- slicing and assembly

const isWhole = (d: Dim) => typeof d !== "number";

/** TF's slice: a negative begin counts from the end, size -1 runs to the end; a symbolic axis is taken whole (begin 0, size -1). */
export function slice(x: Node, begin: readonly number[], size: readonly number[]): Node {
  const rank = x.shape.length;
  if (begin.length !== rank || size.length !== rank) {
    throw new ShapeError(`slice of ${formatShape(x.shape)} needs a begin and a size for each of its ${rank} axes, got ${begin.length} and ${size.length}`, "give one entry per axis, e.g. begin [0, 2] and size [-1, 3]");
  }
  const b: number[] = [];
  const s: Dim[] = [];
  x.shape.forEach((d, i) => {
    const bi = begin[i]!;
    const si = size[i]!;
    if (isWhole(d)) {
      if (bi !== 0 || si !== -1) throw new ShapeError(`slice: axis ${i} of ${formatShape(x.shape)} has the symbolic size ${d}; it can only be taken whole`, "use begin 0 and size -1 on a symbolic axis");
      b.push(0);
      s.push(d);
      return;
    }
    const start = bi < 0 ? bi + d : bi;
    if (start < 0 || start > d) throw new ShapeError(`slice: begin ${bi} is out of range for axis ${i} of ${formatShape(x.shape)} (size ${d})`, `begin runs from ${-d} to ${d}`);
    const len = si === -1 ? d - start : si;
    if (len < 0 || start + len > d) {
      throw new ShapeError(`slice: size ${si} from ${start} runs past the end of axis ${i} of ${formatShape(x.shape)} (size ${d})`, `at most ${d - start} elements remain; -1 takes them all`);
    }
    b.push(start);
    s.push(len);
  });
  return slicePrim(x, b, s);
}

/** NumPy's pad with a constant: `paddings[i]` is [before, after] for axis i. */
export function pad(x: Node, paddings: readonly (readonly number[])[], value = 0): Node {
  const rank = x.shape.length;
  if (paddings.length !== rank || paddings.some((p) => p.length !== 2)) {
    throw new ShapeError(`pad of ${formatShape(x.shape)} needs [before, after] for each of its ${rank} axes`, "e.g. [[0, 0], [1, 2]] for a 2-D tensor");
  }
  return padPrim(x, paddings.map((p) => p[0]!), paddings.map((p) => p[1]!), value);
}

/** The tensors' common dtype (i32 only if all are) and rank. */
function assembled(op: string, xs: readonly Node[]): { dtype: DType; rank: number } {
  const first = xs[0];
  if (first === undefined) throw new ShapeError(`${op} needs at least one tensor`, `pass a non-empty array: ${op}([a, b], axis)`);
  const rank = first.shape.length;
  const other = xs.find((x) => x.shape.length !== rank);
  if (other) throw new ShapeError(`${op}: tensors of different ranks, ${formatShape(first.shape)} and ${formatShape(other.shape)}`, "all tensors need the same number of axes");
  return { dtype: xs.every((x) => x.dtype === "i32") ? "i32" : "f32", rank };
}

/**
 * Joins tensors along an existing axis. Written as a sum of pads, each input
 * padded with zeros to the full shape: fusion computes the pads where the sum
 * reads them, so a concatenation is one kernel without copies.
 */
export function concat(xs: readonly Node[], axis = 0): Node {
  const { dtype, rank } = assembled("concat", xs);
  if (rank === 0) throw new ShapeError("concat: scalars have no axis to join along", "use stack to join scalars");
  const a = normalizeAxis(axis, rank);
  const first = xs[0]!;
  const sizes = xs.map((x) => {
    const d = x.shape[a]!;
    if (typeof d !== "number") throw new ShapeError(`concat: axis ${a} of ${formatShape(x.shape)} is symbolic (${d})`, "concatenate along a static axis");
    x.shape.forEach((e, i) => {
      if (i !== a && !dimEq(e, first.shape[i]!)) {
        throw new ShapeError(`concat along axis ${a}: ${formatShape(first.shape)} and ${formatShape(x.shape)} differ on axis ${i}`, "all axes but the joined one must match");
      }
    });
    return d;
  });
  if (xs.length === 1) return cast(first, dtype);
  const total = sizes.reduce((p, q) => p + q, 0);
  let offset = 0;
  const parts = xs.map((x, k) => {
    const before = first.shape.map((_, i) => (i === a ? offset : 0));
    const after = first.shape.map((_, i) => (i === a ? total - offset - sizes[k]! : 0));
    offset += sizes[k]!;
    return padPrim(cast(x, dtype), before, after, 0);
  });
  return parts.slice(1).reduce((acc, p) => binary("add", acc, p), parts[0]!);
}

/** Joins tensors of one shape along a new axis (negative counts from the end of the result's axes). */
export function stack(xs: readonly Node[], axis = 0): Node {
  const { rank } = assembled("stack", xs);
  const a = normalizeAxis(axis, rank + 1);
  const first = xs[0]!;
  const other = xs.find((x) => !x.shape.every((d, i) => dimEq(d, first.shape[i]!)));
  if (other) throw new ShapeError(`stack: ${formatShape(first.shape)} and ${formatShape(other.shape)} differ`, "stacked tensors need the same shape");
  return concat(xs.map((x) => reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])), a);
}

/** Cuts a tensor along `axis` into parts of the given sizes, or into `parts` equal parts. */
export function split(x: Node, sizes: number | readonly number[], axis = 0): Node[] {
  const rank = x.shape.length;
  if (rank === 0) throw new ShapeError("split: a scalar has no axis to split", "split a tensor with at least one axis");
  const a = normalizeAxis(axis, rank);
  const d = x.shape[a]!;
  if (typeof d !== "number") throw new ShapeError(`split: axis ${a} of ${formatShape(x.shape)} is symbolic (${d})`, "split along a static axis");
  let parts: number[];
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes < 1 || d % sizes !== 0) {
      throw new ShapeError(`split: axis ${a} of ${formatShape(x.shape)} (size ${d}) does not divide into ${sizes} equal parts`, "pass a divisor of the axis size, or a list of sizes");
    }
    parts = Array.from({ length: sizes }, () => d / sizes);
  } else {
    parts = [...sizes];
    if (parts.some((p) => !Number.isInteger(p) || p < 0) || parts.reduce((p, q) => p + q, 0) !== d) {
      throw new ShapeError(`split: sizes [${parts.join(", ")}] do not add up to axis ${a} of ${formatShape(x.shape)} (size ${d})`, `the sizes must be non-negative and sum to ${d}`);
    }
  }
  let offset = 0;
  return parts.map((p) => {
    const begin = x.shape.map((_, i) => (i === a ? offset : 0));
    offset += p;
    return slicePrim(x, begin, x.shape.map((e, i) => (i === a ? p : e)));
  });
}
