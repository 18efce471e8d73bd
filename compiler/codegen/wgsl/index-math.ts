// Index arithmetic in WGSL: sizes (static or symbolic) as u32 expressions,
// row-major strides, and the flat-index maps of broadcast, transpose, slice and pad.

import { mulDim, type Dim, type Shape } from "../../../runtime/program/dim.js";

/** A size as a u32 WGSL expression: 784 -> "784u", "784*batch" -> "(784u * dims.batch)". */
export function dimExpr(d: Dim): string {
  if (typeof d === "number") return `${d}u`;
  const parts = d.split("*").map((p) => (/^\d+$/.test(p) ? `${p}u` : `dims.${p}`));
  return parts.length === 1 ? parts[0] : `(${parts.join(" * ")})`;
}

export function stridesOf(shape: Shape): Dim[] {
  const s: Dim[] = new Array(shape.length);
  let acc: Dim = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc = mulDim(acc, shape[i]);
  }
  return s;
}

/** The coordinate along axis `axis` of flat index `idx` over `shape`. */
export function coord(index: string, shape: Shape, axis: number): string {
  const idx = /^[A-Za-z0-9_]+$/.test(index) ? index : `(${index})`;
  const stride = stridesOf(shape)[axis];
  const q = stride === 1 ? idx : `(${idx} / ${dimExpr(stride)})`;
  return axis === 0 ? q : `(${q} % ${dimExpr(shape[axis])})`;
}

/** Σ coord(idx over `shape`, axis d) * srcStrides[d] over the axes with a non-zero source stride. */
export function remap(idx: string, shape: Shape, srcStrides: readonly (Dim | 0)[]): string {
  const terms: string[] = [];
  shape.forEach((_, d) => {
    const s = srcStrides[d];
    if (s === 0) return;
    const c = coord(idx, shape, d);
    terms.push(s === 1 ? c : `${c} * ${dimExpr(s)}`);
  });
  return terms.length === 0 ? "0u" : terms.length === 1 ? terms[0] : `(${terms.join(" + ")})`;
}

/** The flat index into a broadcast's input of flat index `idx` of its output. */
export function broadcastIndex(idx: string, out: Shape, input: Shape, dims: readonly number[]): string {
  const inStrides = stridesOf(input);
  const src: (Dim | 0)[] = out.map(() => 0);
  dims.forEach((d, i) => {
    if (input[i] !== 1) src[d] = inStrides[i];
  });
  return remap(idx, out, src);
}

/** The flat index into a transpose's input of flat index `idx` of its output. */
export function transposeIndex(idx: string, out: Shape, input: Shape, perm: readonly number[]): string {
  const inStrides = stridesOf(input);
  return remap(idx, out, perm.map((p) => inStrides[p]));
}

/** The flat index into a slice's input of flat index `idx` of its output: each coordinate shifted by its begin. */
export function sliceIndex(idx: string, out: Shape, input: Shape, begin: readonly number[]): string {
  const inStrides = stridesOf(input);
  const offset = begin.flatMap((b, d) => (b === 0 ? [] : [inStrides[d] === 1 ? `${b}u` : `${b}u * ${dimExpr(inStrides[d])}`]));
  const at = remap(idx, out, inStrides);
  return offset.length === 0 ? at : `(${[at, ...offset].join(" + ")})`;
}

/**
 * A pad's read of its input at flat index `idx` of its output: whether the
 * index falls inside the input (one unsigned comparison per padded axis: a
 * coordinate before the input wraps around to a large u32), and the input's
 * flat index there (meaningful only inside).
 */
export function padIndex(idx: string, out: Shape, input: Shape, before: readonly number[], after: readonly number[]): { inside: string; at: string } {
  const inStrides = stridesOf(input);
  const checks: string[] = [];
  const terms = out.map((_, d) => {
    const c = coord(idx, out, d);
    const b = before[d] ?? 0;
    const shifted = b === 0 ? c : `(${c} - ${b}u)`;
    if (b !== 0 || (after[d] ?? 0) !== 0) checks.push(`${shifted} < ${dimExpr(input[d])}`);
    return inStrides[d] === 1 ? shifted : `${shifted} * ${dimExpr(inStrides[d])}`;
  });
  const at = terms.length === 0 ? "0u" : terms.length === 1 ? terms[0] : `(${terms.join(" + ")})`;
  return { inside: checks.length === 0 ? "true" : checks.join(" && "), at };
}
