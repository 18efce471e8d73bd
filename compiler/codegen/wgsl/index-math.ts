// Index arithmetic in WGSL: sizes (static or symbolic) as u32 expressions,
// row-major strides, and the flat-index maps of broadcast and transpose.

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
