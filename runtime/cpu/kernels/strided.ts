// Strided copies and reductions over an odometer: the one index walk that
// broadcast, transpose, slice, pad and reductions share. The innermost axis runs as a plain
// loop with a stride; only the outer axes step the odometer. Axes that the
// strides walk as one (e.g. the three reduced axes of a conv bias gradient, or
// the untouched tail of a transpose) are merged first, so the inner loop is as
// long as it can be and the odometer steps rarely.

import type { Data } from "../ndarray.js";

/**
 * The same index walk over fewer axes: drops size-1 axes and merges axis i
 * into axis i + 1 where strides[i] = strides[i + 1] · shape[i + 1] (both 0
 * included), for a row-major walk of `shape` against `strides`.
 */
export function coalesce(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const outShape: number[] = [];
  const outStrides: number[] = [];
  for (let a = 0; a < shape.length; a++) {
    const n = shape[a]!;
    const st = strides[a]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && outStrides[last] === st * n) {
      outShape[last] = outShape[last]! * n;
      outStrides[last] = st;
    } else {
      outShape.push(n);
      outStrides.push(st);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * out[i] = src[offset(i)] for every index i of `shape` (row-major), where the
 * source offset of an index is the dot product with `srcStrides` (0 repeats).
 */
export function gather(out: Data, src: Data, fullShape: readonly number[], fullStrides: readonly number[]): void {
  if (out.length === 0) return;
  const { shape, strides: srcStrides } = coalesce(fullShape, fullStrides);
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const innerStride = srcStrides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let o = 0; o < out.length; o += inner) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) out[o + j] = src[s]!;
    // Step the outer axes.
    for (let a = rank - 2; a >= 0; a--) {
      idx[a]!++;
      base += srcStrides[a]!;
      if (idx[a]! < shape[a]!) break;
      base -= srcStrides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
}

/**
 * The mirror of gather: out[offset(i)] = src[i] for every index i of `shape`
 * (row-major), where the destination offset of an index is the dot product
 * with `outStrides` (pad writes its input into the interior this way).
 */
export function scatter(out: Data, src: Data, fullShape: readonly number[], fullStrides: readonly number[]): void {
  if (src.length === 0) return;
  const { shape, strides: outStrides } = coalesce(fullShape, fullStrides);
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const innerStride = outStrides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let i = 0; i < src.length; i += inner) {
    for (let j = 0, o = base; j < inner; j++, o += innerStride) out[o] = src[i + j]!;
    for (let a = rank - 2; a >= 0; a--) {
      idx[a]!++;
      base += outStrides[a]!;
      if (idx[a]! < shape[a]!) break;
      base -= outStrides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
}

/**
 * Reduces `src` (row-major over `shape`) into `out`: element i goes to out at
 * the dot product of its index with `outStrides` (0 on reduced axes).
 * `out` must hold the identity of `combine` beforehand.
 */
export function reduceInto(out: Data, src: Data, fullShape: readonly number[], fullStrides: readonly number[], kind: "sum" | "max"): void {
  if (src.length === 0) return;
  const { shape, strides: outStrides } = coalesce(fullShape, fullStrides);
  const rank = shape.length;
  if (rank === 0) {
    out[0] = kind === "sum" ? out[0]! + src[0]! : Math.max(out[0]!, src[0]!);
    return;
  }
  const inner = shape[rank - 1]!;
  const innerStride = outStrides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = 0;
  for (let i = 0; i < src.length; i += inner) {
    if (innerStride === 0) {
      // The innermost axis is reduced: fold a contiguous run into one slot.
      let acc = out[base]!;
      if (kind === "sum") for (let j = 0; j < inner; j++) acc += src[i + j]!;
      else for (let j = 0; j < inner; j++) if (src[i + j]! > acc || src[i + j] !== src[i + j]) acc = src[i + j]!;
      out[base] = acc;
    } else if (kind === "sum") {
      for (let j = 0, o = base; j < inner; j++, o += innerStride) out[o] = out[o]! + src[i + j]!;
    } else {
      for (let j = 0, o = base; j < inner; j++, o += innerStride) if (src[i + j]! > out[o]! || src[i + j] !== src[i + j]) out[o] = src[i + j]!;
    }
    for (let a = rank - 2; a >= 0; a--) {
      idx[a]!++;
      base += outStrides[a]!;
      if (idx[a]! < shape[a]!) break;
      base -= outStrides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
}
