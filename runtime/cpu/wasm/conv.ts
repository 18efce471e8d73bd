// The three convolutions on the WebAssembly GEMM, as the same products as
// runtime/cpu/kernels/conv.ts (P the patch matrix of x, K the kernel as a
// [kh·kw·cg, out] matrix per group):
//
//   conv2d            y  = P · K        P packed from x by f32_pack_patches_4
//   conv2dFilterGrad  dk = Pᵀ · dy      Pᵀ packed from x by f32_pack_patches_t_4
//   conv2dInputGrad   dP = dy · Kᵀ      a block of positions at a time, then
//                                       added into dx by f32_scatter_patches
//
// P is never built: the packers of runtime/wasm/patches.ts read each block of
// it from x straight into the GEMM's A panels. Operands and output are the
// plan's buffers, read and written in place. A grouped convolution is one
// product per group over the group's channels and columns, through row
// strides; a depthwise one runs the direct loops of kernels/depthwise.ts on
// views of the heap, as in float64.
//
// Each product's scratch: the geometry block, a few zeros the packers read for
// padding, the GEMM's panels (and for the input gradient, a block of dP).

import { depthwise, depthwiseFilterGrad, depthwiseInputGrad, isDepthwise } from "../kernels/depthwise.js";
import { geometry, type Geometry } from "../kernels/patches.js";
import { size } from "../ndarray.js";
import { scratchBytes, type PatchPanels } from "../../wasm/gemm.js";
import { HeapView, regions } from "../../wasm/heap.js";
import type { Heap } from "../../wasm/heap.js";
import { GEOMETRY_BYTES, writeGeometry, type PatchGeometry } from "../../wasm/patches.js";
import { planGemm, type CacheModel, type GemmPlan } from "../../wasm/plan.js";
import type { PreparedProduct, Prepare } from "./products.js";
import type { WasmEngine } from "./engine.js";

/** The tile plan of an m x k x n product (any of which may be 0). */
const plan = (m: number, n: number, k: number, cache: CacheModel): GemmPlan => planGemm(Math.max(m, 1), Math.max(n, 1), Math.max(k, 1), cache);

/** The geometry block of group `grp`: x (or dx) at byte `x`, padding read from `zero`. */
function groupGeometry(g: Geometry, grp: number, x: number, zero: number): PatchGeometry {
  return { ...g, x: x + 4 * grp * g.cg, zero };
}

/** A depthwise convolution: the direct loops on views of the output and operands, no scratch. */
function direct(heap: Heap, sizes: readonly [number, number, number], run: (out: Float32Array, a: Float32Array, b: Float32Array) => void): PreparedProduct {
  return {
    scratchBytes: 0,
    bind(at) {
      const [out, a, b] = [new HeapView(heap, at.out, sizes[0]), new HeapView(heap, at.a, sizes[1]), new HeapView(heap, at.b, sizes[2])];
      return () => run(out.array, a.array, b.array);
    },
  };
}

/**
 * C = A · B per group, A packed from x's patches (P for conv2d, Pᵀ
 * for the filter gradient): A is m x k, B (the operand after x) k x out, C m x
 * out, each group's columns of B and C read and written in place.
 */
function patchProduct(engine: WasmEngine, g: Geometry, groups: number, m: number, k: number, patches: PatchPanels["patches"]): PreparedProduct {
  const og = g.o / groups;
  const p = plan(m, og, k, engine.gemm.cache);
  const zeros = Math.max(g.cg, 4);
  const {
    at: [zeroAt, panelsAt],
    end,
  } = regions(GEOMETRY_BYTES, zeros, scratchBytes(p, engine.gemm.threads) / 4);
  return {
    scratchBytes: end,
    bind(at) {
      const geos = Array.from({ length: groups }, (_, grp) => groupGeometry(g, grp, at.a, at.scratch + zeroAt!));
      const zero = new HeapView(engine.heap, at.scratch + zeroAt!, zeros);
      const packA: PatchPanels = { patches, geometry: at.scratch };
      return () => {
        zero.array.fill(0);
        for (let grp = 0; grp < geos.length; grp++) {
          writeGeometry(engine.heap.i32, at.scratch, geos[grp]!);
          // The group's columns of B and C, read and written in place.
          const [b, out] = [at.b + 4 * grp * og, at.out + 4 * grp * og];
          engine.gemm.product({ m, k, n: og, a: 0, b, c: out, ldb: g.o, ldc: g.o, transA: false, transB: false, packA, scratch: at.scratch + panelsAt!, plan: p });
        }
        engine.calls++;
      };
    },
  };
}

/** y = P · K. */
export const conv2d: Prepare<"conv2d"> = (engine, out, [xs, ks], attrs) => {
  const g = geometry(xs!, out, [ks![0]!, ks![1]!], attrs);
  if (isDepthwise(g)) return direct(engine.heap, [size(out), size(xs!), size(ks!)], (Y, X, K) => depthwise(g, X, K, Y));
  return patchProduct(engine, g, attrs.groups, g.n * g.oh * g.ow, g.kh * g.kw * g.cg, "rows");
};

/** dk = Pᵀ · dy. */
export const conv2dFilterGrad: Prepare<"conv2dFilterGrad"> = (engine, out, [xs, dys], attrs) => {
  const g = geometry(xs!, dys!, attrs.kernelSize, attrs);
  if (isDepthwise(g)) return direct(engine.heap, [size(out), size(xs!), size(dys!)], (DK, X, DY) => depthwiseFilterGrad(g, X, DY, DK));
  return patchProduct(engine, g, attrs.groups, g.kh * g.kw * g.cg, g.n * g.oh * g.ow, "columns");
};

/** Elements of dP computed per block: a few hundred rows, sized to stay in L2 for the scatter. */
const PATCH_BLOCK = 1 << 16;

export const conv2dInputGrad: Prepare<"conv2dInputGrad"> = (engine, out, [dys, ks], attrs) => {
  const g = geometry(out, dys!, [ks![0]!, ks![1]!], attrs);
  if (isDepthwise(g)) return direct(engine.heap, [size(out), size(dys!), size(ks!)], (DX, DY, K) => depthwiseInputGrad(g, DY, K, DX));
  const og = g.o / attrs.groups;
  const positions = g.n * g.oh * g.ow;
  const depth = g.kh * g.kw * g.cg; // dP's columns, in (ky, kx, c) order
  const block = Math.max(4, Math.min(256, Math.floor(PATCH_BLOCK / depth) & ~3));
  const p = plan(Math.min(block, positions), depth, og, engine.gemm.cache);
  const threads = engine.gemm.threads;
  const {
    at: [dpAt, panelsAt],
    end,
  } = regions(GEOMETRY_BYTES, threads * block * depth, scratchBytes(p, threads) / 4);
  const { gemm } = engine;
  return {
    scratchBytes: end,
    bind(at) {
      // The scatter skips taps in the padding: no address is -1.
      const geos = Array.from({ length: attrs.groups }, (_, grp) => groupGeometry(g, grp, at.out, -1));
      const dx = new HeapView(engine.heap, at.out, size(out));
      const dp = at.scratch + dpAt!;
      return () => {
        dx.array.fill(0);
        for (let grp = 0; grp < geos.length; grp++) {
          writeGeometry(engine.heap.i32, at.scratch, geos[grp]!);
          // dP = the group's dy · its Kᵀ, K read as it lies ([depth, o]), `block` rows at a time, each added into dx.
          const scatter = { geometry: at.scratch, rows: block, image: g.oh * g.ow };
          gemm.product({ m: positions, k: og, n: depth, a: at.a + 4 * grp * og, b: at.b + 4 * grp * og, c: dp, lda: g.o, ldb: g.o, transA: false, transB: true, scatter, scratch: at.scratch + panelsAt!, plan: p });
        }
        engine.calls++;
      };
    },
  };
};
