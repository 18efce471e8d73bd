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
// it from x straight into the GEMM's A panels. The operands are copied into
// the heap whole (memcpys), the output is computed there and copied out. A
// grouped convolution is one product per group over the group's channels and
// columns, read and written in place through row strides; a depthwise one
// runs the direct loops of kernels/depthwise.ts, as in float64.
//
// Each product's heap: the geometry block at 0, the GEMM's scratch, then its
// operands.

import { depthwise, depthwiseFilterGrad, depthwiseInputGrad, isDepthwise } from "../kernels/depthwise.js";
import { geometry, type Geometry } from "../kernels/patches.js";
import { size } from "../ndarray.js";
import { scratchBytes, type PanelPacker } from "../../wasm/gemm.js";
import { HeapView, regions } from "../../wasm/heap.js";
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

/** Bytes from 0 that the geometry block and the GEMM's scratch take; operands follow. */
const scratchEnd = (p: GemmPlan): number => GEOMETRY_BYTES + scratchBytes(p);

/** A depthwise convolution: the direct loops, no heap. */
function direct(run: PreparedProduct["run"]): PreparedProduct {
  return { bytes: 0, run };
}

function packer(engine: WasmEngine, pack: "packRows" | "packColumns"): PanelPacker {
  const patches = engine.gemm.patches;
  return (dst, r0, rows, d0, depth) => patches[pack](0, r0, rows, d0, depth, dst);
}

/**
 * C = A · B per group, A packed from x's patches by `pack` (P for conv2d, Pᵀ
 * for the filter gradient): A is m x k, B (the operand after x) k x out, C m x
 * out, each group's columns of B and C read and written in place.
 */
function patchProduct(engine: WasmEngine, g: Geometry, groups: number, xSize: number, m: number, k: number, pack: "packRows" | "packColumns"): PreparedProduct {
  const og = g.o / groups;
  const p = plan(m, og, k, engine.gemm.cache);
  const {
    at: [xAt, zeroAt, bAt, cAt],
    end,
  } = regions(scratchEnd(p), xSize, Math.max(g.cg, 4), k * g.o, m * g.o);
  const geos = Array.from({ length: groups }, (_, grp) => groupGeometry(g, grp, xAt!, zeroAt!));
  const zeros = new HeapView(engine.heap, zeroAt!, Math.max(g.cg, 4));
  const c = new HeapView(engine.heap, cAt!, m * g.o);
  const packA = packer(engine, pack);
  return {
    bytes: end,
    run(C, X, B) {
      const heap = engine.heap.f32;
      heap.set(X, xAt! >> 2);
      heap.set(B, bAt! >> 2);
      zeros.array.fill(0);
      for (let grp = 0; grp < geos.length; grp++) {
        writeGeometry(engine.heap.i32, 0, geos[grp]!);
        // The group's columns of B and C, read and written in place.
        const [b, out] = [bAt! + 4 * grp * og, cAt! + 4 * grp * og];
        engine.gemm.product({ m, k, n: og, a: 0, b, c: out, ldb: g.o, ldc: g.o, transA: false, transB: false, packA, scratch: GEOMETRY_BYTES, plan: p });
      }
      C.set(c.array);
      engine.calls++;
    },
  };
}

/** y = P · K. */
export const conv2d: Prepare<"conv2d"> = (engine, out, [xs, ks], attrs) => {
  const g = geometry(xs!, out, [ks![0]!, ks![1]!], attrs);
  if (isDepthwise(g)) return direct((Y, X, K) => depthwise(g, X, K, Y));
  return patchProduct(engine, g, attrs.groups, size(xs!), g.n * g.oh * g.ow, g.kh * g.kw * g.cg, "packRows");
};

/** dk = Pᵀ · dy. */
export const conv2dFilterGrad: Prepare<"conv2dFilterGrad"> = (engine, out, [xs, dys], attrs) => {
  const g = geometry(xs!, dys!, attrs.kernelSize, attrs);
  if (isDepthwise(g)) return direct((DK, X, DY) => depthwiseFilterGrad(g, X, DY, DK));
  return patchProduct(engine, g, attrs.groups, size(xs!), g.kh * g.kw * g.cg, g.n * g.oh * g.ow, "packColumns");
};

/** Elements of dP computed per block: a few hundred rows, sized to stay in L2 for the scatter. */
const PATCH_BLOCK = 1 << 16;

export const conv2dInputGrad: Prepare<"conv2dInputGrad"> = (engine, out, [dys, ks], attrs) => {
  const g = geometry(out, dys!, [ks![0]!, ks![1]!], attrs);
  if (isDepthwise(g)) return direct((DX, DY, K) => depthwiseInputGrad(g, DY, K, DX));
  const og = g.o / attrs.groups;
  const positions = g.n * g.oh * g.ow;
  const depth = g.kh * g.kw * g.cg; // dP's columns, in (ky, kx, c) order
  const block = Math.max(4, Math.min(256, Math.floor(PATCH_BLOCK / depth) & ~3));
  const p = plan(Math.min(block, positions), depth, og, engine.gemm.cache);
  const {
    at: [dyAt, kAt, dxAt, dpAt],
    end,
  } = regions(scratchEnd(p), positions * g.o, depth * g.o, size(out), block * depth);
  // The scatter skips taps in the padding: no address is -1.
  const geos = Array.from({ length: attrs.groups }, (_, grp) => groupGeometry(g, grp, dxAt!, -1));
  const dx = new HeapView(engine.heap, dxAt!, size(out));
  const { gemm } = engine;
  return {
    bytes: end,
    run(DX, DY, K) {
      const heap = engine.heap.f32;
      heap.set(DY, dyAt! >> 2);
      heap.set(K, kAt! >> 2);
      dx.array.fill(0);
      for (let grp = 0; grp < geos.length; grp++) {
        writeGeometry(engine.heap.i32, 0, geos[grp]!);
        for (let p0 = 0; p0 < positions; p0 += block) {
          const rows = Math.min(block, positions - p0);
          // dP rows = the group's dy rows · its Kᵀ, K read as it lies ([depth, o]).
          const a = dyAt! + 4 * (p0 * g.o + grp * og);
          gemm.product({ m: rows, k: og, n: depth, a, b: kAt! + 4 * grp * og, c: dpAt!, lda: g.o, ldb: g.o, transA: false, transB: true, scratch: GEOMETRY_BYTES, plan: p });
          gemm.patches.scatter(0, p0, rows, dpAt!);
        }
      }
      DX.set(dx.array);
      engine.calls++;
    },
  };
};
