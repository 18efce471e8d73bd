// Batched matrix product with either operand read transposed in place: each
// batch is one blocked product (gemm.ts), whose packers read op(A) and op(B)
// through strides, so a transposed operand is never copied whole.

import { size, type FloatArray } from "../ndarray.js";
import { gemm, stridedPacker } from "./gemm.js";
import type { Kernel } from "./types.js";

export const matmul: Kernel<"matmul"> = (out, [a, b], { transA, transB }) => {
  const r = out.shape.length;
  const M = out.shape[r - 2]!;
  const N = out.shape[r - 1]!;
  const K = transA ? a!.shape[r - 2]! : a!.shape[r - 1]!;
  const batches = size(out.shape.slice(0, -2));
  // Element (i, k) of op(A) is A[i * ai + k * ak]; element (k, j) of op(B) is B[k * bk + j * bj].
  const ai = transA ? 1 : K;
  const ak = transA ? M : 1;
  const bk = transB ? 1 : N;
  const bj = transB ? K : 1;
  // matmul is f32-only, so every operand is a float array.
  const A = a!.data as FloatArray;
  const B = b!.data as FloatArray;
  const C = out.data as FloatArray;
  for (let t = 0; t < batches; t++) {
    // The B packer reads op(B)ᵀ: rows j, depth k.
    gemm(M, N, K, stridedPacker(A, t * M * K, ai, ak), stridedPacker(B, t * K * N, bj, bk), { data: C, offset: t * M * N, rowStride: N, colStride: 1 });
  }
};
