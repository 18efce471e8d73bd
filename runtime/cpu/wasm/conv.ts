// The three convolutions on the WebAssembly GEMM, as the same products as
// runtime/cpu/kernels/conv.ts (P the patch matrix of x, K the kernel as a
// [kh·kw·in, out] matrix):
//
//   conv2d            y  = P · K        P packed from x by patchRows
//   conv2dFilterGrad  dk = Pᵀ · dy      Pᵀ packed from x by patchColumns
//   conv2dInputGrad   dP = dy · Kᵀ      a block of positions at a time, then
//                                       added into dx's layout (col2im)
//
// P is never built: the JavaScript patch packers of conv.ts write each block
// of it straight into the GEMM's A panels in WebAssembly memory, and the
// kernel or dy is copied into the heap whole and packed there. The output is
// computed in the heap and copied out with one memcpy.

import { geometry, patchColumns, patchRows, Positions, runOfTaps, tapOffset, type Geometry } from "../kernels/conv.js";
import { scratchBytes } from "../../wasm/gemm.js";
import { HeapView, regions } from "../../wasm/heap.js";
import { planGemm, type CacheModel } from "../../wasm/plan.js";
import type { Prepare } from "./products.js";

/** The tile plan of an m x k x n product (any of which may be 0). */
const plan = (m: number, n: number, k: number, cache: CacheModel) => planGemm(Math.max(m, 1), Math.max(n, 1), Math.max(k, 1), cache);

export const conv2d: Prepare<"conv2d"> = (engine, out, [xs, ks], { stride, pad }) => {
  const g = geometry(xs!, out, [ks![0]!, ks![1]!], stride, pad);
  const m = g.n * g.oh * g.ow;
  const k = g.kh * g.kw * g.c;
  const n = g.o;
  const p = plan(m, n, k, engine.gemm.cache);
  const {
    at: [kAt, yAt],
    end,
  } = regions(scratchBytes(p), k * n, m * n);
  const y = new HeapView(engine.heap, yAt!, m * n);
  return {
    bytes: end,
    run(Y, X, K) {
      engine.heap.f32.set(K, kAt! >> 2);
      engine.gemm.product({ m, k, n, a: 0, b: kAt!, c: yAt!, transA: false, transB: false, packA: patchRows(g, X), scratch: 0, plan: p });
      Y.set(y.array);
      engine.calls++;
    },
  };
};

export const conv2dFilterGrad: Prepare<"conv2dFilterGrad"> = (engine, out, [xs, dys], { stride, pad, kernelSize }) => {
  const g = geometry(xs!, dys!, kernelSize, stride, pad);
  const m = g.kh * g.kw * g.c;
  const k = g.n * g.oh * g.ow;
  const n = g.o;
  const p = plan(m, n, k, engine.gemm.cache);
  const {
    at: [dyAt, dkAt],
    end,
  } = regions(scratchBytes(p), k * n, m * n);
  const dk = new HeapView(engine.heap, dkAt!, m * n);
  return {
    bytes: end,
    run(DK, X, DY) {
      engine.heap.f32.set(DY, dyAt! >> 2);
      engine.gemm.product({ m, k, n, a: 0, b: dyAt!, c: dkAt!, transA: false, transB: false, packA: patchColumns(g, X), scratch: 0, plan: p });
      DK.set(dk.array);
      engine.calls++;
    },
  };
};

/** Elements of dP computed per block: a few hundred rows, sized to stay in L2 for the scatter. */
const PATCH_BLOCK = 1 << 16;

export const conv2dInputGrad: Prepare<"conv2dInputGrad"> = (engine, out, [dys, ks], { stride, pad }) => {
  const g = geometry(out, dys!, [ks![0]!, ks![1]!], stride, pad);
  const positions = g.n * g.oh * g.ow;
  const width = g.kh * g.kw * g.c; // dP's columns, in (ky, kx, c) order
  const block = Math.max(4, Math.min(256, Math.floor(PATCH_BLOCK / width) & ~3));
  const p = plan(Math.min(block, positions), width, g.o, engine.gemm.cache);
  const {
    at: [dyAt, kAt, dpAt],
    end,
  } = regions(scratchBytes(p), positions * g.o, width * g.o, block * width);
  const dP = new HeapView(engine.heap, dpAt!, block * width);
  return {
    bytes: end,
    run(DX, DY, K) {
      const heap = engine.heap.f32;
      heap.set(DY, dyAt! >> 2);
      heap.set(K, kAt! >> 2);
      DX.fill(0);
      for (let p0 = 0; p0 < positions; p0 += block) {
        const rows = Math.min(block, positions - p0);
        // dP rows = dy rows · Kᵀ, with K read as it lies ([width, o]).
        engine.gemm.product({ m: rows, k: g.o, n: width, a: dyAt! + 4 * p0 * g.o, b: kAt!, c: dpAt!, transA: false, transB: true, scratch: 0, plan: p });
        addPatchGradients(g, dP.array, p0, rows, DX);
      }
      engine.calls++;
    },
  };
};

/** Adds rows [0, rows) of dP (positions p0 onwards, row stride kh·kw·c) into dx, a kernel row (or a tap) at a time. */
function addPatchGradients(g: Geometry, dP: Float32Array, p0: number, rows: number, DX: Float32Array): void {
  const width = g.kh * g.kw * g.c;
  const at = new Positions(g, p0);
  for (let r = 0; r < rows; r++, at.next()) {
    const { b, y0, x0 } = at;
    for (let ky = 0; ky < g.kh; ky++) {
      const s = tapOffset(g, b, y0, x0, ky, 0);
      const taps = runOfTaps(g, s, x0, 0);
      for (let kx = 0; kx < g.kw; kx += taps) {
        const d = taps === 1 ? tapOffset(g, b, y0, x0, ky, kx) : s;
        if (d < 0) continue;
        for (let i = 0, src = r * width + (ky * g.kw + kx) * g.c, n = taps * g.c; i < n; i++) DX[d + i] = DX[d + i]! + dP[src + i]!;
      }
    }
  }
}
