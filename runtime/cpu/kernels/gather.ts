// Gathers along one axis, as (outer, n, inner) blocks: the table is
// [outer, n, inner], the gathered output [outer, K, inner] for K indices.
// Indices are clamped to [0, n - 1], as in the WGSL kernels
// (compiler/codegen/wgsl/indexed.ts). scatterAdd adds the updates in index
// order, so repeated indices sum in the same order on every backend.

import { size } from "../ndarray.js";
import type { KernelTable } from "./types.js";

/** The table's [outer, n, inner] around `axis`. */
function blocks(table: readonly number[], axis: number): [number, number, number] {
  return [size(table.slice(0, axis)), table[axis]!, size(table.slice(axis + 1))];
}

const clamp = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

export const GATHER_KERNELS: KernelTable<"gather" | "scatterAdd"> = {
  gather: (out, [table, indices], { axis }) => {
    const [outer, n, inner] = blocks(table!.shape, axis);
    const T = table!.data;
    const I = indices!.data;
    const Y = out.data;
    const K = I.length;
    for (let o = 0, y = 0; o < outer; o++) {
      for (let k = 0; k < K; k++, y += inner) {
        const from = (o * n + clamp(I[k]!, n)) * inner;
        for (let q = 0; q < inner; q++) Y[y + q] = T[from + q]!;
      }
    }
  },
  scatterAdd: (out, [updates, indices], { axis }) => {
    const [outer, n, inner] = blocks(out.shape, axis);
    const U = updates!.data;
    const I = indices!.data;
    const K = I.length;
    // Float32 results accumulate in float64 and round once.
    const acc = out.data instanceof Float32Array ? new Float64Array(out.data.length) : out.data.fill(0);
    for (let o = 0, u = 0; o < outer; o++) {
      for (let k = 0; k < K; k++, u += inner) {
        const to = (o * n + clamp(I[k]!, n)) * inner;
        for (let q = 0; q < inner; q++) acc[to + q] = acc[to + q]! + U[u + q]!;
      }
    }
    if (acc !== out.data) out.data.set(acc);
  },
};
