// Algebraic simplification: local rewrites that make a graph smaller without
// changing its values, written as a table of rules keyed by op. A rule sees a
// node whose inputs are already simplified and returns a replacement or
// undefined. Rules never remove a NaN or an Inf that the original computes
// (so no x * 0 -> 0); identities with 0 and 1 are exact in IEEE arithmetic.

import { dimEq, type Dim } from "../../runtime/program/dim.js";
import { UNARY_OPS } from "../../runtime/program/elementwise.js";
import type { Op } from "../../runtime/program/ops.js";
import { mapGraph } from "../ir/graph.js";
import type { Graph, Node, NodeOf } from "../ir/node.js";
import { binary, broadcastInDim, countOf, full, matmul, neg, reshape, slice, transpose } from "../ops/build.js";
import { atLoc, remake } from "../ops/make.js";
import type { Pass } from "./pass.js";

type Rule<O extends Op> = (n: NodeOf<O>) => Node | undefined;
type Rules = { readonly [O in Op]?: readonly Rule<O>[] };

const isConst = (n: Node, v: number) => n.op === "const" && n.attrs.value === v;
const is = <O extends Op>(n: Node, op: O): n is Extract<Node, { op: O }> => n.op === op;

/** The axes that `reshape` merely inserts or removes as size 1, if that is all it does. */
function unitReshape(from: readonly Dim[], to: readonly Dim[]): number[] | undefined {
  // Returns, for each non-1 axis of `from`, its axis in `to`.
  const map: number[] = [];
  let j = 0;
  for (let i = 0; i < from.length; i++) {
    if (from[i] === 1) continue;
    while (j < to.length && to[j] === 1 && !dimEq(from[i]!, 1)) j++;
    if (j >= to.length || !dimEq(from[i]!, to[j]!)) return undefined;
    map[i] = j++;
  }
  while (j < to.length) if (to[j++] !== 1) return undefined;
  return map;
}

/** The axes of a broadcast's output that it creates or expands from size 1. */
function expandedAxes(b: NodeOf<"broadcast">): Set<number> {
  const x = b.inputs[0]!;
  const out = new Set(b.shape.map((_, i) => i));
  b.attrs.dims.forEach((d, i) => {
    if (dimEq(x.shape[i]!, b.shape[d]!)) out.delete(d);
  });
  return out;
}

/** reduce(broadcast(x)) over axes the broadcast created: the reduction of a repeated value. */
function reduceOfBroadcast(n: NodeOf<"sum"> | NodeOf<"max">): Node | undefined {
  const b = n.inputs[0]!;
  if (!is(b, "broadcast")) return undefined;
  const expanded = expandedAxes(b);
  if (!n.attrs.axes.every((a) => expanded.has(a))) return undefined;
  const x = b.inputs[0]!;
  const reduced = new Set(n.attrs.axes);
  // x's axes that land on reduced axes have size 1 and disappear; the rest stay, renumbered.
  const keptX = b.attrs.dims.map((d, i) => [d, i] as const).filter(([d]) => !reduced.has(d));
  const outAxis = (d: number) => d - n.attrs.axes.filter((a) => a < d).length;
  const squeezed = reshape(x, keptX.map(([, i]) => x.shape[i]!));
  const spread = broadcastInDim(squeezed, n.shape, keptX.map(([d]) => outAxis(d)));
  if (n.op === "max") return spread;
  const count = countOf(b.shape, n.attrs.axes);
  return count === 1 ? spread : binary("mul", spread, full(count, n.shape));
}

/** op(broadcast(x)) -> broadcast(op(x)) for a unary elementwise op: compute once per distinct value. */
function unaryThroughBroadcast(n: Node): Node | undefined {
  const b = n.inputs[0]!;
  return is(b, "broadcast") ? broadcastInDim(remake(n, [b.inputs[0]!]), n.shape, b.attrs.dims) : undefined;
}

/** slice(slice(x)) -> one slice of x: the offsets add (a symbolic axis is taken whole by both). */
function sliceOfSlice(n: NodeOf<"slice">): Node | undefined {
  const inner = n.inputs[0]!;
  if (!is(inner, "slice")) return undefined;
  return slice(inner.inputs[0]!, n.attrs.begin.map((b, i) => b + inner.attrs.begin[i]!), n.attrs.size);
}

/**
 * slice(pad(x)): a window inside x on every axis is a slice of x; a window
 * inside the padding on some axis is the fill value. (split of a concat, the
 * gradient of a slice read back.)
 */
function sliceOfPad(n: NodeOf<"slice">): Node | undefined {
  const p = n.inputs[0]!;
  if (!is(p, "pad")) return undefined;
  const x = p.inputs[0]!;
  let inside = true;
  for (let i = 0; i < x.shape.length; i++) {
    const [d, size] = [x.shape[i]!, n.attrs.size[i]!];
    if (typeof d !== "number" || typeof size !== "number") continue; // symbolic: unpadded, taken whole
    const start = n.attrs.begin[i]! - p.attrs.before[i]!;
    if (start + size <= 0 || start >= d) return full(p.attrs.value, n.shape, n.dtype);
    if (start < 0 || start + size > d) inside = false;
  }
  return inside ? slice(x, n.attrs.begin.map((b, i) => b - p.attrs.before[i]!), n.attrs.size) : undefined;
}

/** Whether `p` is zero in the window of slice `n`: a pad of 0 whose input the window misses on some axis, or a sum of such. */
function zeroOutside(p: Node, n: NodeOf<"slice">): boolean {
  if (is(p, "add")) return zeroOutside(p.inputs[1]!, n) && zeroOutside(p.inputs[0]!, n);
  if (!is(p, "pad") || p.attrs.value !== 0) return false;
  const x = p.inputs[0]!;
  return x.shape.some((d, i) => {
    const size = n.attrs.size[i]!;
    if (typeof d !== "number" || typeof size !== "number") return false;
    const start = n.attrs.begin[i]! - p.attrs.before[i]!;
    return start + size <= 0 || start >= d;
  });
}

/** slice(a + pad(b)) where the window misses b: slice(a). A concat is a sum of zero-padded parts, so this is how split(concat) finds its parts. */
function sliceOfSum(n: NodeOf<"slice">): Node | undefined {
  const sum = n.inputs[0]!;
  if (!is(sum, "add")) return undefined;
  const [a, b] = sum.inputs as [Node, Node];
  if (zeroOutside(b, n)) return slice(a, n.attrs.begin, n.attrs.size);
  if (zeroOutside(a, n)) return slice(b, n.attrs.begin, n.attrs.size);
  return undefined;
}

/** Every unary op is computed once per distinct value of a broadcast operand. */
const UNARY_RULES = Object.fromEntries(UNARY_OPS.map((op) => [op, [unaryThroughBroadcast]])) as Rules;

const RULES: Rules = {
  ...UNARY_RULES,
  add: [
    (n) => (isConst(n.inputs[1]!, 0) ? n.inputs[0] : isConst(n.inputs[0]!, 0) ? n.inputs[1] : undefined),
    (n) => (is(n.inputs[1]!, "neg") ? binary("sub", n.inputs[0]!, n.inputs[1].inputs[0]!) : undefined),
    (n) => (is(n.inputs[0]!, "neg") ? binary("sub", n.inputs[1]!, n.inputs[0].inputs[0]!) : undefined),
  ],
  sub: [
    (n) => (isConst(n.inputs[1]!, 0) ? n.inputs[0] : undefined),
    (n) => (isConst(n.inputs[0]!, 0) ? neg(n.inputs[1]!) : undefined),
    (n) => (is(n.inputs[1]!, "neg") ? binary("add", n.inputs[0]!, n.inputs[1].inputs[0]!) : undefined),
  ],
  mul: [
    (n) => (isConst(n.inputs[1]!, 1) ? n.inputs[0] : isConst(n.inputs[0]!, 1) ? n.inputs[1] : undefined),
    (n) => (isConst(n.inputs[1]!, -1) ? neg(n.inputs[0]!) : isConst(n.inputs[0]!, -1) ? neg(n.inputs[1]!) : undefined),
    (n) => (is(n.inputs[0]!, "neg") && is(n.inputs[1]!, "neg") ? binary("mul", n.inputs[0].inputs[0]!, n.inputs[1].inputs[0]!) : undefined),
  ],
  div: [(n) => (isConst(n.inputs[1]!, 1) ? n.inputs[0] : undefined)],
  neg: [(n) => (is(n.inputs[0]!, "neg") ? n.inputs[0].inputs[0] : undefined), unaryThroughBroadcast],
  pow: [
    (n) => (isConst(n.inputs[1]!, 1) ? n.inputs[0] : undefined),
    // x ** 2 as x * x: cheaper, and exact for negative x where pow() is not (WGSL's pow needs x >= 0).
    (n) => (isConst(n.inputs[1]!, 2) ? binary("mul", n.inputs[0]!, n.inputs[0]!) : undefined),
  ],
  where: [(n) => (n.inputs[1] === n.inputs[2] ? n.inputs[1] : undefined)],
  reshape: [
    (n) => (n.inputs[0]!.shape.length === n.shape.length && n.shape.every((d, i) => dimEq(d, n.inputs[0]!.shape[i]!)) ? n.inputs[0] : undefined),
    (n) => (is(n.inputs[0]!, "reshape") ? reshape(n.inputs[0].inputs[0]!, n.shape) : undefined),
  ],
  broadcast: [
    // broadcast(broadcast(x)): input axis i of x lands on outer.dims[inner.dims[i]].
    (n) => {
      const inner = n.inputs[0]!;
      return is(inner, "broadcast") ? broadcastInDim(inner.inputs[0]!, n.shape, inner.attrs.dims.map((d) => n.attrs.dims[d]!)) : undefined;
    },
    // broadcast(reshape(x)) where the reshape only adds or drops size-1 axes (keepDims).
    (n) => {
      const r = n.inputs[0]!;
      if (!is(r, "reshape")) return undefined;
      const x = r.inputs[0]!;
      const map = unitReshape(x.shape, r.shape);
      if (!map) return undefined;
      const keep = x.shape.map((_, i) => i).filter((i) => x.shape[i] !== 1);
      return broadcastInDim(reshape(x, keep.map((i) => x.shape[i]!)), n.shape, keep.map((i) => n.attrs.dims[map[i]!]!));
    },
  ],
  transpose: [
    (n) => {
      const inner = n.inputs[0]!;
      return is(inner, "transpose") ? transpose(inner.inputs[0]!, n.attrs.perm.map((p) => inner.attrs.perm[p]!)) : undefined;
    },
  ],
  slice: [sliceOfSlice, sliceOfPad, sliceOfSum],
  sum: [(n) => (n.attrs.axes.length === 0 ? n.inputs[0] : undefined), reduceOfBroadcast],
  max: [(n) => (n.attrs.axes.length === 0 ? n.inputs[0] : undefined), reduceOfBroadcast],
  matmul: [
    // A transpose of the last two axes feeding a matmul becomes a flag: no transposed copy.
    (n) => {
      const [a, b] = n.inputs as [Node, Node];
      const swapsLast = (x: Node) => is(x, "transpose") && x.attrs.perm.every((p, i, all) => (i < all.length - 2 ? p === i : p === all.length * 2 - 3 - i));
      if (swapsLast(a)) return matmul(a.inputs[0]!, b, !n.attrs.transA, n.attrs.transB);
      if (swapsLast(b)) return matmul(a, b.inputs[0]!, n.attrs.transA, !n.attrs.transB);
      return undefined;
    },
  ],
  cast: [(n) => (n.inputs[0]!.dtype === n.dtype ? n.inputs[0] : undefined), unaryThroughBroadcast],
};

/** Applies the rules to one node until none fires. */
function rewrite(n: Node): Node {
  for (let guard = 0; guard < 16; guard++) {
    const rules = (RULES[n.op] ?? []) as readonly Rule<typeof n.op>[];
    let next: Node | undefined;
    for (const rule of rules) {
      next = atLoc(n.loc, () => rule(n as never));
      if (next) break;
    }
    if (!next || next === n) return n;
    n = next;
  }
  return n;
}

export function algebra(g: Graph): Graph {
  return mapGraph(g, (node, inputs) => rewrite(remake(node, inputs)));
}

export const ALGEBRA: Pass = { name: "algebra", run: algebra };

/** After differentiation, stopGradient has done its work: it is the identity. */
export function eraseStopGradient(g: Graph): Graph {
  return mapGraph(g, (node, inputs) => (node.op === "stopGradient" ? inputs[0]! : remake(node, inputs)));
}

export const ERASE_STOP_GRADIENT: Pass = { name: "erase-stop-gradient", run: eraseStopGradient };
