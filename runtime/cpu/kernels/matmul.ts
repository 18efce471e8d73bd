// Batched matrix product with either operand read transposed in place.

import { size } from "../ndarray.js";
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
  const A = a!.data;
  const B = b!.data;
  const C = out.data;
  C.fill(0);
  for (let t = 0; t < batches; t++) {
    const a0 = t * M * K;
    const b0 = t * K * N;
    const c0 = t * M * N;
    if (bj === 1) {
      // Rows of op(B) are contiguous: accumulate a scaled row at a time.
      for (let i = 0; i < M; i++) {
        const ci = c0 + i * N;
        for (let k = 0; k < K; k++) {
          const aik = A[a0 + i * ai + k * ak]!;
          const bRow = b0 + k * bk;
          for (let j = 0; j < N; j++) C[ci + j] = C[ci + j]! + aik * B[bRow + j]!;
        }
      }
    } else {
      // op(B) = Bᵀ: columns of op(B) are rows of B, so each output is a contiguous dot product.
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          const bCol = b0 + j * bj;
          for (let k = 0; k < K; k++) s += A[a0 + i * ai + k * ak]! * B[bCol + k]!;
          C[c0 + i * N + j] = s;
        }
      }
    }
  }
};
