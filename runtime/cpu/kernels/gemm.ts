// The blocked matrix product under matmul and the three convolutions:
// C = op(A) · op(B), in the style of Goto's GEMM.
//
// Operands reach the product only through packers, which copy a block of an
// operand into scratch panels of 4 rows (of op(A)) or 4 columns (of op(B))
// laid out in the order the micro-kernel reads them. A 4x4 micro-kernel then
// multiplies one A panel by one B panel, holding the 16 sums in locals. Packing
// is what lets one micro-kernel serve every operand layout (a transposed
// operand, the im2col patches of a convolution) and both precisions: the
// panels are always Float64Arrays, so V8 compiles the micro-kernel once,
// monomorphically, and float32 data is widened exactly on the way in. Sums
// are float64 throughout a depth block and rounded once into C.
//
// Blocking keeps each panel where it is reused: a KC-deep B panel (8 KiB) in
// L1 while the A panels of an MC-row block (128 KiB) stream past it from L2,
// all of it inside a KC x NC block of B. The depth is split into equal blocks
// of at most KC, so a K of 784 runs as 4 blocks of 196, not 3 of 256 and a
// sliver.
//
// The scratch buffer is kept between calls and grows to at most one block of
// each operand; kernels run one at a time, so sharing it is safe.

import type { FloatArray } from "../ndarray.js";

/** Rows of op(A) and columns of op(B) per panel, and so the micro-tile size. */
export const PANEL = 4;
const KC = 256;
const MC = 64;
const NC = 512;

/**
 * Copies rows [r0, r0 + rows) of a matrix R, over depth (columns)
 * [d0, d0 + depth), into `dst` as ceil(rows / 4) panels of depth x 4: element
 * R[r0 + 4q + i][d0 + p] goes to dst[(q * depth + p) * 4 + i]. Rows of the
 * last panel past `rows` are zero. For A, R = op(A); for B, R = op(B)ᵀ.
 */
export type Packer = (dst: Float64Array, r0: number, rows: number, d0: number, depth: number) => void;

/** Where C lives: C[i][j] is data[offset + i * rowStride + j * colStride]. */
export interface Target {
  readonly data: FloatArray;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

// One buffer holds both packed blocks (B's, then A's), so the micro-kernel
// reads a single array: V8 re-checks an array's map and reloads its length
// inside the loop, and one array instead of two ran up to 15% faster in
// isolated measurements (a few percent within the whole product).
let packed = new Float64Array(0);
const tile = new Float64Array(PANEL * PANEL);

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** The block size that splits `n` into equal blocks of at most `max` (a multiple of `align`). */
function blockSize(n: number, max: number, align: number): number {
  return roundUp(Math.ceil(n / Math.ceil(n / max)), align);
}

/** C = op(A) · op(B), with op(A) m x k and op(B) k x n; C is overwritten. */
export function gemm(m: number, n: number, k: number, packA: Packer, packB: Packer, c: Target): void {
  if (m === 0 || n === 0) return;
  const { data: C, offset: c0, rowStride: rs, colStride: cs } = c;
  if (k === 0) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) C[c0 + i * rs + j * cs] = 0;
    return;
  }
  const kcMax = blockSize(k, KC, 1);
  const mcMax = blockSize(m, MC, PANEL);
  const ncMax = blockSize(n, NC, PANEL);
  const aStart = ncMax * kcMax;
  if (packed.length < aStart + mcMax * kcMax) packed = new Float64Array(aStart + mcMax * kcMax);
  const P = packed;
  const Bp = P.subarray(0, aStart);
  const Ap = P.subarray(aStart);
  const T = tile;
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = Math.min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += kcMax) {
      const kc = Math.min(kcMax, k - pc);
      const first = pc === 0;
      packB(Bp, jc, nc, pc, kc);
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = Math.min(mcMax, m - ic);
        packA(Ap, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += PANEL) {
          const nr = Math.min(PANEL, nc - jr);
          for (let ir = 0; ir < mc; ir += PANEL) {
            const mr = Math.min(PANEL, mc - ir);
            micro4x4(kc, P, aStart + ir * kc, jr * kc, T);
            // Write the tile back, clipped to C.
            const ct = c0 + (ic + ir) * rs + (jc + jr) * cs;
            if (mr === PANEL && nr === PANEL && cs === 1) {
              if (first) {
                for (let i = 0, ci = ct; i < 16; i += 4, ci += rs) {
                  C[ci] = T[i]!;
                  C[ci + 1] = T[i + 1]!;
                  C[ci + 2] = T[i + 2]!;
                  C[ci + 3] = T[i + 3]!;
                }
              } else {
                for (let i = 0, ci = ct; i < 16; i += 4, ci += rs) {
                  C[ci] = C[ci]! + T[i]!;
                  C[ci + 1] = C[ci + 1]! + T[i + 1]!;
                  C[ci + 2] = C[ci + 2]! + T[i + 2]!;
                  C[ci + 3] = C[ci + 3]! + T[i + 3]!;
                }
              }
            } else {
              for (let i = 0; i < mr; i++) {
                for (let j = 0; j < nr; j++) {
                  const ci = ct + i * rs + j * cs;
                  C[ci] = first ? T[i * PANEL + j]! : C[ci]! + T[i * PANEL + j]!;
                }
              }
            }
          }
        }
      }
    }
  }
}

/** tile = (A panel)ᵀ · (B panel) over `kc`, both panels in P: the 4x4 product of 4 rows of op(A) and 4 columns of op(B). */
function micro4x4(kc: number, P: Float64Array, ia: number, ib: number, T: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++, ia += 4, ib += 4) {
    const a0 = P[ia]!, a1 = P[ia + 1]!, a2 = P[ia + 2]!, a3 = P[ia + 3]!;
    let b = P[ib]!;
    c00 += a0 * b; c10 += a1 * b; c20 += a2 * b; c30 += a3 * b;
    b = P[ib + 1]!;
    c01 += a0 * b; c11 += a1 * b; c21 += a2 * b; c31 += a3 * b;
    b = P[ib + 2]!;
    c02 += a0 * b; c12 += a1 * b; c22 += a2 * b; c32 += a3 * b;
    b = P[ib + 3]!;
    c03 += a0 * b; c13 += a1 * b; c23 += a2 * b; c33 += a3 * b;
  }
  T[0] = c00; T[1] = c01; T[2] = c02; T[3] = c03;
  T[4] = c10; T[5] = c11; T[6] = c12; T[7] = c13;
  T[8] = c20; T[9] = c21; T[10] = c22; T[11] = c23;
  T[12] = c30; T[13] = c31; T[14] = c32; T[15] = c33;
}

/**
 * The packer of a strided matrix view: R[r][d] = src[offset + r * rowStride + d * depthStride].
 * (For op(A) of a row-major A: rowStride K, depthStride 1, or 1 and M if transposed.)
 */
export function stridedPacker(src: FloatArray, offset: number, rowStride: number, depthStride: number): Packer {
  return (dst, r0, rows, d0, depth) => {
    for (let q = 0; q < rows; q += PANEL) {
      const panel = (q / PANEL) * depth * PANEL;
      const live = Math.min(PANEL, rows - q);
      const base = offset + (r0 + q) * rowStride + d0 * depthStride;
      if (live === PANEL && rowStride === 1) {
        // The panel's 4 rows are adjacent in memory: copy 4 at a time.
        for (let p = 0, s = base, o = panel; p < depth; p++, s += depthStride, o += PANEL) {
          dst[o] = src[s]!;
          dst[o + 1] = src[s + 1]!;
          dst[o + 2] = src[s + 2]!;
          dst[o + 3] = src[s + 3]!;
        }
        continue;
      }
      for (let i = 0; i < live; i++) {
        for (let p = 0, s = base + i * rowStride, o = panel + i; p < depth; p++, s += depthStride, o += PANEL) dst[o] = src[s]!;
      }
      for (let i = live; i < PANEL; i++) zeroRow(dst, panel + i, depth);
    }
  };
}

/** Zeroes row `start` of a panel (every 4th element, `depth` of them). */
export function zeroRow(dst: Float64Array, start: number, depth: number): void {
  for (let p = 0, o = start; p < depth; p++, o += PANEL) dst[o] = 0;
}
