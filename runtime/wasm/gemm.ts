// SGEMM in WebAssembly SIMD128: C[m, n] = op(A)[m, k] · op(B)[k, n] over f32
// buffers in one WebAssembly.Memory, every transpose layout served by packing.
//
// The functions are emitted by the assembler (runtime/wasm/assembler.ts),
// named XNNPACK-style by what they compute and their tile, so a profile line
// says what ran (the module also holds the convolutions' patch functions of
// patches.ts, which pack into the same panels):
//
// - f32_pack_4 / f32_pack_8 copy a block of a strided matrix R into panels of
//   4 (or 8) rows, element R[q + i][p] to panel q at (p * W + i): op(A) into
//   4-row panels, op(B)ᵀ into 8-column panels. Rows past the end of the block
//   are zero, so the micro-kernel never needs an edge case inside its loop.
//   A layout is only a pair of strides to the packer, so the four transpose
//   layouts cost nothing in the kernel.
// - f32_gemm_4x8 sweeps the 4x8 micro-kernel over one packed MC x KC block of A
//   and one KC x NC block of B: per depth step two f32x4 loads of B, four
//   broadcast loads of A, eight multiply-adds into eight f32x4 accumulators.
//   Full tiles are written (or, after the first depth block, added) straight
//   into C; tiles clipped by m or n go through a 32-float scratch tile and a
//   scalar loop. Accumulation is in f32, in depth order within a block.
// - f32_gemm_blocks walks Goto's blocks over a range of C's rows and columns,
//   calling the packers (or a patch packer) and the macro-kernel; and
//   f32_gemm_scatter does so a block of rows at a time, adding each into a
//   convolution's input gradient (col2im).
//
// The block sizes come from plan.ts. The JavaScript driver only splits C
// between threads: with `threads` > 1 the memory is shared, and a pool of
// workers (workers.ts) runs the same module over it; each thread computes
// its rows (or columns) of C with its own scratch, by one call of
// f32_gemm_blocks, described to a worker as plain data (a function and its
// i32 arguments). Each element of C is computed by one thread with the same
// depth blocks, so results do not depend on the number of threads.
//
// Buffers: `matmul` copies A and B into linear memory and C out of it, which
// costs O(mk + kn + mn) against the O(mnk) product. The CPU executable
// (runtime/cpu/wasm) calls `product` with addresses in a memory it reserved
// once per plan; operands are then any strided matrices in that memory (row
// strides of their own, so a group's slice of channels is read in place), and
// op(A) may instead come from another packer that writes the panels itself,
// as the convolutions' implicit im2col (patches.ts, in the same module) does.

import { PAGE_BYTES, requireWasm, type WasmApi, type WasmInstance, type WasmMemory, type WasmModule } from "./api.js";
import { FunctionBuilder, ModuleBuilder, type Local } from "./assembler.js";
import { doWhileBelow } from "./loops.js";
import { mulAdd } from "./madd.js";
import { wasmFeatures } from "./features.js";
import { emitPatchFunctions, patchKernels, type PatchKernels } from "./patches.js";
import { DEFAULT_CACHE, MR, NR, planGemm, type CacheModel, type GemmPlan } from "./plan.js";
import { WorkerPool, type PoolOptions } from "./workers.js";

const F32 = 4;
const TILE_BYTES = MR * NR * F32;

// ---- emission ------------------------------------------------------------------

/** dst = min(cap, limit - from). */
function clippedWidth(f: FunctionBuilder, dst: Local, cap: number | Local, limit: Local, from: Local): void {
  const pushCap = (): void => (typeof cap === "number" ? f.i32.const(cap) : f.get(cap));
  pushCap();
  f.get(limit);
  f.get(from);
  f.i32.sub();
  f.local.tee(dst);
  f.get(dst);
  pushCap();
  f.i32.gt_s();
  f.select("i32");
  f.set(dst);
}

/**
 * f32_pack_W(src, rowStride, depthStride, rows, depth, dst): packs R[0..rows)[0..depth),
 * R[r][p] at src + r * rowStride + p * depthStride (strides in bytes), into
 * ceil(rows / W) panels of depth x W at dst, zero-padding the last panel.
 * rows and depth are at least 1.
 */
function emitPack(m: ModuleBuilder, width: 4 | 8): number {
  const params = [["src", "i32"], ["rowStride", "i32"], ["depthStride", "i32"], ["rows", "i32"], ["depth", "i32"], ["dst", "i32"]] as const;
  return m.function(`f32_pack_${width}`, params, [], (f) => {
    const [src, rowStride, depthStride, rows, depth, dst] = f.params as [Local, Local, Local, Local, Local, Local];
    const q = f.addLocal("i32", "q");
    const live = f.addLocal("i32", "live");
    const p = f.addLocal("i32", "p");
    const i = f.addLocal("i32", "i");
    const s = f.addLocal("i32", "s");
    const t = f.addLocal("i32", "t");
    doWhileBelow(f, q, width, rows, () => {
      clippedWidth(f, live, width, rows, q);
      // s = src + q * rowStride: row q of R at depth 0.
      f.get(src);
      f.get(q);
      f.get(rowStride);
      f.i32.mul();
      f.i32.add();
      f.set(s);
      f.get(live);
      f.i32.const(width);
      f.i32.eq();
      f.get(rowStride);
      f.i32.const(F32);
      f.i32.eq();
      f.i32.and();
      f.if(
        () => {
          // A full panel of adjacent rows: W contiguous floats per depth step.
          f.i32.const(0);
          f.set(p);
          doWhileBelow(f, p, 1, depth, () => {
            for (let v = 0; v < width / 4; v++) {
              f.get(dst);
              f.get(s);
              f.v128.load(16 * v);
              f.v128.store(16 * v);
            }
            f.get(dst);
            f.i32.const(width * F32);
            f.i32.add();
            f.set(dst);
            f.get(s);
            f.get(depthStride);
            f.i32.add();
            f.set(s);
          });
        },
        () => {
          f.i32.const(0);
          f.set(p);
          doWhileBelow(f, p, 1, depth, () => {
            f.get(s);
            f.set(t);
            f.i32.const(0);
            f.set(i);
            f.loop((lanes) => {
              f.get(i);
              f.get(live);
              f.i32.lt_s();
              f.if(
                () => {
                  f.get(dst);
                  f.get(t);
                  f.f32.load();
                  f.f32.store();
                },
                () => {
                  f.get(dst);
                  f.f32.const(0);
                  f.f32.store();
                },
              );
              f.get(t);
              f.get(rowStride);
              f.i32.add();
              f.set(t);
              f.get(dst);
              f.i32.const(F32);
              f.i32.add();
              f.set(dst);
              f.get(i);
              f.i32.const(1);
              f.i32.add();
              f.local.tee(i);
              f.i32.const(width);
              f.i32.lt_s();
              f.br_if(lanes);
            });
            f.get(s);
            f.get(depthStride);
            f.i32.add();
            f.set(s);
          });
        },
      );
    });
  });
}

/**
 * f32_gemm_4x8(mc, nc, kc, ap, bp, c, ldc, accumulate, tile): C[0..mc)[0..nc) (=|+=)
 * Ap · Bp, for Ap packed by f32_pack_4 (mc rows) and Bp by f32_pack_8 (nc
 * columns) over depth kc >= 1; C[i][j] at c + i * ldc + 4j (ldc in bytes);
 * `tile` is 128 bytes of scratch for clipped tiles. With `fma`, each
 * multiply-add is one f32x4.relaxed_madd (relaxed SIMD) instead of a mul and
 * an add: half the arithmetic instructions, which is what bounds this loop
 * on cores that decode fewer than eight instructions a cycle.
 */
function emitGemm4x8(m: ModuleBuilder, fma: boolean): number {
  const params = [["mc", "i32"], ["nc", "i32"], ["kc", "i32"], ["ap", "i32"], ["bp", "i32"], ["c", "i32"], ["ldc", "i32"], ["accumulate", "i32"], ["tile", "i32"]] as const;
  return m.function(`f32_gemm_${MR}x${NR}`, params, [], (f) => {
    const [mc, nc, kc, ap, bp, c, ldc, accumulate, tile] = f.params as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const ir = f.addLocal("i32", "ir");
    const jr = f.addLocal("i32", "jr");
    const mr = f.addLocal("i32", "mr");
    const nr = f.addLocal("i32", "nr");
    const a = f.addLocal("i32", "a");
    const b = f.addLocal("i32", "b");
    const p = f.addLocal("i32", "p");
    const cr = f.addLocal("i32", "cr");
    const i = f.addLocal("i32", "i");
    const j = f.addLocal("i32", "j");
    const t = f.addLocal("i32", "t");
    const acc = Array.from({ length: MR * 2 }, (_, n) => f.addLocal("v128", `c${n >> 1}${n & 1}`));
    const va = f.addLocal("v128", "a");
    const vb = [f.addLocal("v128", "b0"), f.addLocal("v128", "b1")];

    /** Pushes x + y * z. */
    const madd = (x: Local, y: Local, z: Local): void => {
      f.get(x);
      f.get(y);
      f.get(z);
      f.i32.mul();
      f.i32.add();
    };

    doWhileBelow(f, jr, NR, nc, () => {
      clippedWidth(f, nr, NR, nc, jr);
      f.i32.const(0);
      f.set(ir);
      doWhileBelow(f, ir, MR, mc, () => {
        clippedWidth(f, mr, MR, mc, ir);
        // a = ap + ir * kc * 4, b = bp + jr * kc * 4: the two panels.
        for (const [ptr, base, idx] of [[a, ap, ir], [b, bp, jr]] as const) {
          f.get(base);
          f.get(idx);
          f.get(kc);
          f.i32.mul();
          f.i32.const(2);
          f.i32.shl();
          f.i32.add();
          f.set(ptr);
        }
        for (const x of acc) {
          f.f32.const(0);
          f.f32x4.splat();
          f.set(x);
        }
        f.get(kc);
        f.set(p);
        // The micro-kernel: one depth step per iteration, not unrolled.
        f.loop((depth) => {
          for (let h = 0; h < 2; h++) {
            f.get(b);
            f.v128.load(16 * h);
            f.set(vb[h]!);
          }
          for (let r = 0; r < MR; r++) {
            f.get(a);
            f.v128.load32_splat(F32 * r);
            f.set(va);
            for (let h = 0; h < 2; h++) {
              const x = acc[2 * r + h]!;
              f.get(va);
              mulAdd(f, fma, () => f.get(vb[h]!), () => f.get(x));
              f.set(x);
            }
          }
          f.get(a);
          f.i32.const(MR * F32);
          f.i32.add();
          f.set(a);
          f.get(b);
          f.i32.const(NR * F32);
          f.i32.add();
          f.set(b);
          f.get(p);
          f.i32.const(1);
          f.i32.sub();
          f.local.tee(p);
          f.br_if(depth);
        });
        // cr = c + ir * ldc + jr * 4: the tile's corner in C.
        madd(c, ir, ldc);
        f.get(jr);
        f.i32.const(2);
        f.i32.shl();
        f.i32.add();
        f.set(cr);
        f.get(mr);
        f.i32.const(MR);
        f.i32.eq();
        f.get(nr);
        f.i32.const(NR);
        f.i32.eq();
        f.i32.and();
        f.if(
          () => {
            // A full tile: straight into C, row by row.
            const storeRows = (add: boolean): void => {
              for (let r = 0; r < MR; r++) {
                for (let h = 0; h < 2; h++) {
                  f.get(cr);
                  if (add) {
                    f.get(cr);
                    f.v128.load(16 * h);
                  }
                  f.get(acc[2 * r + h]!);
                  if (add) f.f32x4.add();
                  f.v128.store(16 * h);
                }
                if (r < MR - 1) {
                  f.get(cr);
                  f.get(ldc);
                  f.i32.add();
                  f.set(cr);
                }
              }
            };
            f.get(accumulate);
            f.if(
              () => storeRows(true),
              () => storeRows(false),
            );
          },
          () => {
            // A clipped tile: through the scratch tile, element by element.
            for (let n = 0; n < acc.length; n++) {
              f.get(tile);
              f.get(acc[n]!);
              f.v128.store(16 * n);
            }
            f.get(tile);
            f.set(t);
            f.i32.const(0);
            f.set(i);
            doWhileBelow(f, i, 1, mr, () => {
              f.i32.const(0);
              f.set(j);
              doWhileBelow(f, j, 1, nr, () => {
                // C[i][j] = tile[i][j] + (accumulate ? C[i][j] : 0)
                // a (free after the micro-kernel) = cr + 4j, the element's address.
                f.get(cr);
                f.get(j);
                f.i32.const(2);
                f.i32.shl();
                f.i32.add();
                f.set(a);
                f.get(a);
                f.get(t);
                f.get(j);
                f.i32.const(2);
                f.i32.shl();
                f.i32.add();
                f.f32.load();
                f.get(a);
                f.f32.load();
                f.f32.const(0);
                f.get(accumulate);
                f.select("f32");
                f.f32.add();
                f.f32.store();
              });
              f.get(cr);
              f.get(ldc);
              f.i32.add();
              f.set(cr);
              f.get(t);
              f.i32.const(TILE_BYTES / MR);
              f.i32.add();
              f.set(t);
            });
          },
        );
      });
    });
  });
}

/** How f32_gemm_blocks packs op(A), in bits 1-2 of its flags (bit 0: accumulate into C). */
const PACK_STRIDED = 0;
const PACK_PATCH_ROWS = 1;
const PACK_PATCH_COLUMNS = 2;

/** The parameters of f32_gemm_blocks (addresses and strides in bytes); f32_gemm_scatter takes two more. */
const BLOCKS_PARAMS = [
  ["r0", "i32"], ["m", "i32"], ["n", "i32"], ["k", "i32"],
  ["a", "i32"], ["aRow", "i32"], ["aDepth", "i32"], ["b", "i32"], ["bRow", "i32"], ["bDepth", "i32"], ["c", "i32"], ["ldc", "i32"],
  ["flags", "i32"], ["geo", "i32"], ["mc", "i32"], ["kc", "i32"], ["nc", "i32"], ["scratch", "i32"],
] as const;
const BLOCKS_TYPES = BLOCKS_PARAMS.map(() => "i32" as const);

interface Callees {
  readonly pack4: number;
  readonly pack8: number;
  readonly macro: number;
  readonly packRows: number;
  readonly packColumns: number;
  readonly scatter: number;
}

/**
 * f32_gemm_blocks(r0, m, n, k, a, aRow, aDepth, b, bRow, bDepth, c, ldc, flags, geo, mc, kc, nc, scratch):
 * Goto's loops over C[0..m)[0..n) (=|+=) op(A) · op(B), m, n, k >= 1: for
 * each nc block of columns and kc block of depth, pack op(B) into `scratch`'s
 * B panels; for each mc block of rows, pack op(A) into its A panels (strided
 * from `a`, or by a patch packer from the geometry block `geo`, at rows
 * r0 + i of P or Pᵀ), then the macro-kernel. R[r][p] is at
 * base + r * row + p * depth for R = op(A), op(B)ᵀ. A thread's share of a
 * product is one call: its rows, or its columns, and its own scratch.
 */
function emitBlocks(m: ModuleBuilder, fns: Callees): number {
  return m.function("f32_gemm_blocks", BLOCKS_PARAMS, [], (f) => {
    const [r0, rows, cols, depth, a, aRow, aDepth, b, bRow, bDepth, c, ldc, flags, geo, mc, kc, nc, scratch] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const [jc, pc, ic, ncb, kcb, mcb, bp, ap, kind] = ["jc", "pc", "ic", "ncb", "kcb", "mcb", "bp", "ap", "kind"].map((name) => f.addLocal("i32", name)) as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
    /** Pushes base + i * stride (+ j * stride2). */
    const at = (base: Local, i: Local, stride: Local, j?: Local, stride2?: Local): void => {
      f.get(base);
      f.get(i);
      f.get(stride);
      f.i32.mul();
      f.i32.add();
      if (j && stride2) {
        f.get(j);
        f.get(stride2);
        f.i32.mul();
        f.i32.add();
      }
    };
    // The scratch: the edge tile, then B's panels (kc x nc), then A's (mc x kc).
    f.get(scratch);
    f.i32.const(TILE_BYTES);
    f.i32.add();
    f.local.tee(bp);
    f.get(kc);
    f.get(nc);
    f.i32.mul();
    f.i32.const(2);
    f.i32.shl();
    f.i32.add();
    f.set(ap);
    f.get(flags);
    f.i32.const(1);
    f.i32.shr_u();
    f.set(kind);
    doWhileBelow(f, jc, nc, cols, () => {
      clippedWidth(f, ncb, nc, cols, jc);
      f.i32.const(0);
      f.set(pc);
      doWhileBelow(f, pc, kc, depth, () => {
        clippedWidth(f, kcb, kc, depth, pc);
        at(b, jc, bRow, pc, bDepth);
        for (const x of [bRow, bDepth, ncb, kcb, bp]) f.get(x);
        f.call(fns.pack8, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
        f.i32.const(0);
        f.set(ic);
        doWhileBelow(f, ic, mc, rows, () => {
          clippedWidth(f, mcb, mc, rows, ic);
          f.get(kind);
          f.i32.const(PACK_STRIDED);
          f.i32.eq();
          f.if(
            () => {
              at(a, ic, aRow, pc, aDepth);
              for (const x of [aRow, aDepth, mcb, kcb, ap]) f.get(x);
              f.call(fns.pack4, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
            },
            () => {
              for (const [which, fn] of [[PACK_PATCH_ROWS, fns.packRows], [PACK_PATCH_COLUMNS, fns.packColumns]] as const) {
                f.get(kind);
                f.i32.const(which);
                f.i32.eq();
                f.if(() => {
                  f.get(geo);
                  f.get(r0);
                  f.get(ic);
                  f.i32.add();
                  for (const x of [mcb, pc, kcb, ap]) f.get(x);
                  f.call(fn, ["i32", "i32", "i32", "i32", "i32", "i32"], []);
                });
              }
            },
          );
          // macro(mcb, ncb, kcb, ap, bp, c + ic * ldc + 4 jc, ldc, accumulate || pc > 0, tile)
          for (const x of [mcb, ncb, kcb, ap, bp]) f.get(x);
          at(c, ic, ldc);
          f.get(jc);
          f.i32.const(2);
          f.i32.shl();
          f.i32.add();
          f.get(ldc);
          f.get(flags);
          f.i32.const(1);
          f.i32.and();
          f.get(pc);
          f.i32.const(0);
          f.i32.ne();
          f.i32.or();
          f.get(scratch);
          f.call(fns.macro, ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"], []);
        });
      });
    });
  });
}

/**
 * f32_gemm_scatter(...f32_gemm_blocks' parameters, block, sgeo): the input
 * gradient of a convolution, dP = op(A) · op(B) added into dx's layout, rows
 * [r0, r0 + m) of dP `block` rows at a time: each block is computed into C
 * (`block` rows, at c) by f32_gemm_blocks and added into dx by
 * f32_scatter_patches with the geometry block `sgeo`.
 */
function emitScatterBlocks(m: ModuleBuilder, blocks: number, fns: Callees): number {
  return m.function("f32_gemm_scatter", [...BLOCKS_PARAMS, ["block", "i32"], ["sgeo", "i32"]], [], (f) => {
    const [r0, rows, cols, depth, a, aRow, aDepth, b, bRow, bDepth, c, ldc, flags, geo, mc, kc, nc, scratch, block, sgeo] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
    const q = f.addLocal("i32", "q");
    const part = f.addLocal("i32", "part");
    doWhileBelow(f, q, block, rows, () => {
      clippedWidth(f, part, block, rows, q);
      f.get(r0);
      f.get(q);
      f.i32.add();
      f.get(part);
      f.get(cols);
      f.get(depth);
      f.get(a);
      f.get(q);
      f.get(aRow);
      f.i32.mul();
      f.i32.add();
      for (const x of [aRow, aDepth, b, bRow, bDepth, c, ldc, flags, geo, mc, kc, nc, scratch]) f.get(x);
      f.call(blocks, BLOCKS_TYPES, []);
      f.get(sgeo);
      f.get(r0);
      f.get(q);
      f.i32.add();
      f.get(part);
      f.get(c);
      f.call(fns.scatter, ["i32", "i32", "i32", "i32"], []);
    });
  });
}

/**
 * The GEMM module over one imported memory `env.memory`: two packers, the 4x8
 * macro-kernel (its multiply-adds fused where `fma`: the host has relaxed
 * SIMD), the patch functions, and the block loops that call them.
 */
export function emitGemmModule(memory: { readonly initial: number; readonly maximum?: number; readonly shared?: boolean }, fma = false): ModuleBuilder {
  const m = new ModuleBuilder().importMemory({ module: "env", name: "memory", ...memory });
  const pack4 = emitPack(m, MR);
  const pack8 = emitPack(m, NR);
  const macro = emitGemm4x8(m, fma);
  const fns = { pack4, pack8, macro, ...emitPatchFunctions(m) };
  const blocks = emitBlocks(m, fns);
  emitScatterBlocks(m, blocks, fns);
  return m;
}

// ---- the driver --------------------------------------------------------------------

type Pack = (src: number, rowStride: number, depthStride: number, rows: number, depth: number, dst: number) => void;
type Macro = (mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, accumulate: number, tile: number) => void;
type Blocks = (...args: number[]) => void;

/**
 * Packs rows [r0, r0 + rows) of op(A), over depth [d0, d0 + depth), into
 * ceil(rows / 4) panels of depth x 4 floats at byte address `dst` (element
 * (r0 + 4q + i, d0 + p) at float (q * depth + p) * 4 + i, rows past the end
 * zero): the layout f32_pack_4 writes. A JavaScript packer runs on the calling
 * thread only, so a product with one is never split.
 */
export type PanelPacker = (dst: number, r0: number, rows: number, d0: number, depth: number) => void;

/** op(A) packed by a patch packer of patches.ts, as data any thread can run: rows of P ("rows") or of Pᵀ ("columns"), the geometry block at byte `geometry`. */
export interface PatchPanels {
  readonly patches: "rows" | "columns";
  readonly geometry: number;
}

/** Where one product's operands live in linear memory (byte addresses, 16-aligned scratch). */
export interface ProductArgs {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** A is m x k row-major, or k x m when transA. */
  readonly a: number;
  /** B is k x n row-major, or n x k when transB. */
  readonly b: number;
  /** C is m x n row-major. */
  readonly c: number;
  readonly transA: boolean;
  readonly transB: boolean;
  /** Row strides in elements of A, B and C as stored (default: dense, k or m for A, n or k for B, n for C). */
  readonly lda?: number;
  readonly ldb?: number;
  readonly ldc?: number;
  /** C += op(A) · op(B) instead of C = op(A) · op(B). */
  readonly accumulate?: boolean;
  /** Packs op(A) instead of reading `a` (then `a`, `lda` and `transA` are unused). */
  readonly packA?: PanelPacker | PatchPanels;
  /**
   * The col2im of a convolution's input gradient: C (= dP) is not stored
   * whole but `rows` rows at a time into a block at `c` (each thread its own,
   * `rows · ldc` floats after the previous one), and each block is added into
   * dx by f32_scatter_patches with the geometry block at `geometry` (whose
   * `zero` is -1). Threads take whole images of `image` rows, so no two add
   * into the same element of dx, and each element of dx receives its terms in
   * the order one thread would add them.
   */
  readonly scatter?: { readonly geometry: number; readonly rows: number; readonly image: number };
  /** scratchBytes(plan, threads) bytes, for this gemm's `threads`: each thread's packed blocks and edge tile. */
  readonly scratch: number;
  readonly plan: GemmPlan;
}

/** Bytes of scratch one product under `plan` needs on `threads` threads: per thread, the packed blocks of A and B and a 4x8 tile. */
export function scratchBytes(plan: GemmPlan, threads = 1): number {
  return threads * (TILE_BYTES + plan.kc * plan.nc * F32 + plan.mc * plan.kc * F32);
}

/** One thread's share of C: rows [i0, i1) and columns [j0, j1). */
export interface Part {
  readonly i0: number;
  readonly i1: number;
  readonly j0: number;
  readonly j1: number;
}

export interface SplitOptions {
  /** The least m·n·k worth splitting. */
  readonly minMacs: number;
  /** op(A) comes from a patch packer, which costs more per element than a copy. */
  readonly patches?: boolean;
  /** Rows must be split at multiples of this (whole images), not of MR. */
  readonly rowUnit?: number;
}

/** `units` units of `unit` (the last one clipped at `total`) in `parts` contiguous ranges as equal as possible. */
function ranges(total: number, unit: number, parts: number): [number, number][] {
  const units = Math.ceil(total / unit);
  return Array.from({ length: parts }, (_, t) => [Math.floor((units * t) / parts) * unit, Math.min(total, Math.floor((units * (t + 1)) / parts) * unit)]);
}

/**
 * How an m x k x n product is shared among at most `threads` threads: by
 * rows (multiples of MR) or by columns (multiples of NR) of C, so that each
 * element of C is computed by one thread, with the plan's depth blocks, in
 * the order one thread would compute it. Splitting rows makes every thread
 * pack all of op(B), splitting columns all of op(A): the split that repeats
 * the smaller packing wins (a patch packer's elements counted 4 times).
 * Products under `minMacs` stay whole: a dispatch costs tens of microseconds.
 */
export function splitProduct(m: number, n: number, k: number, threads: number, options: SplitOptions): Part[] {
  const whole = [{ i0: 0, i1: m, j0: 0, j1: n }];
  if (threads <= 1 || m * n * k < options.minMacs) return whole;
  const rowUnit = options.rowUnit ?? MR;
  const [rowUnits, colUnits] = [Math.ceil(m / rowUnit), options.rowUnit ? 0 : Math.ceil(n / NR)];
  const byRows = rowUnits >= 2 && (colUnits < 2 || n <= m * (options.patches ? 4 : 1));
  if (byRows) return ranges(m, rowUnit, Math.min(threads, rowUnits)).map(([i0, i1]) => ({ i0, i1, j0: 0, j1: n }));
  if (colUnits >= 2) return ranges(n, NR, Math.min(threads, colUnits)).map(([j0, j1]) => ({ i0: 0, i1: m, j0, j1 }));
  return whole;
}

export interface Gemm {
  /** C = op(A) · op(B) for row-major f32 A (m x k, or k x m if transA) and B (k x n, or n x k if transB). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA?: boolean, transB?: boolean): Float32Array;
  /** The product over operands already in `memory`: what the executable calls. */
  product(args: ProductArgs): void;
  /** The convolutions' implicit im2col packers and col2im scatter over the same memory (on the calling thread). */
  readonly patches: PatchKernels;
  readonly memory: WasmMemory;
  readonly cache: CacheModel;
  /** Threads a product may run on: this one and `threads - 1` workers. */
  readonly threads: number;
  /** Products split across threads so far. */
  readonly splits: number;
  /** The workers products are split across (undefined on one thread, or once disposed): the executable's kernels run on them too. */
  readonly pool: WorkerPool | undefined;
  /** Stops the workers (products then run on this thread only). */
  dispose(): void;
  /** The emitted module in text form. */
  readonly text: string;
}

export interface GemmOptions {
  /** A shared memory, for workers (needs the threads proposal). Implied by threads > 1. */
  readonly shared?: boolean;
  readonly cache?: CacheModel;
  /** Threads per product, this one included (default 1): more start a pool of workers over the shared memory. */
  readonly threads?: number;
  /** The least m·n·k split across threads (default 2^21: about 100 µs on one thread, a few times what a dispatch costs). */
  readonly parallelMacs?: number;
  /** Timeouts and host of the workers (workers.ts). */
  readonly pool?: PoolOptions;
  /** Fused multiply-adds (relaxed SIMD) in the micro-kernel: by default where the host has them. */
  readonly fma?: boolean;
}

const MAX_PAGES = 65536;
const DEFAULT_PARALLEL_MACS = 1 << 21;

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

type Limits = { readonly initial: number; readonly maximum?: number; readonly shared?: boolean };

interface Setup {
  readonly api: WasmApi;
  readonly cache: CacheModel;
  readonly limits: Limits;
  readonly fma: boolean;
}

/** Checks the host for `options`; throws where WebAssembly, SIMD128 or a requested shared memory is missing. */
function setup(options: GemmOptions): Setup {
  const api = requireWasm();
  const features = wasmFeatures();
  if (!features.simd) throw new Error("this host's WebAssembly has no SIMD128");
  const shared = (options.shared ?? false) || (options.threads ?? 1) > 1;
  if (shared && !features.sharedMemory) throw new Error("this host's WebAssembly has no shared memory");
  const limits = shared ? { initial: 1, maximum: MAX_PAGES, shared: true } : { initial: 1 };
  if (options.fma && !features.relaxedSimd) throw new Error("this host's WebAssembly has no relaxed SIMD (fused multiply-add)");
  return { api, cache: options.cache ?? DEFAULT_CACHE, limits, fma: options.fma ?? features.relaxedSimd };
}

/** Compiles the GEMM module over a fresh memory. Rejects where WebAssembly SIMD128 is missing. */
export async function createGemm(options: GemmOptions = {}): Promise<Gemm> {
  const { api, cache, limits, fma } = setup(options);
  const builder = emitGemmModule(limits, fma);
  const memory = new api.Memory(limits);
  const module = await api.compile(builder.toBytes());
  return bind(await api.instantiate(module, { env: { memory } }), module, memory, cache, builder, options);
}

/** The module emitted and compiled for each memory's limits: synchronous compilation happens once per process. */
const compiled = new Map<string, { readonly builder: ModuleBuilder; readonly module: WasmModule }>();

/**
 * The same, compiled synchronously, for the CPU executable, whose runs are
 * synchronous. The module is 3.5 KB and compiles in about a millisecond in
 * Node (browsers allow synchronous compilation on the main thread up to
 * 4 KB). With threads, blocks until the workers have instantiated it. Throws
 * where WebAssembly SIMD128 (or, for threads, a shared memory or workers) is
 * missing.
 */
export function createGemmSync(options: GemmOptions = {}): Gemm {
  const { api, cache, limits, fma } = setup(options);
  const key = JSON.stringify({ limits, fma });
  let entry = compiled.get(key);
  if (!entry) {
    const builder = emitGemmModule(limits, fma);
    compiled.set(key, (entry = { builder, module: new api.Module(builder.toBytes()) }));
  }
  const memory = new api.Memory(limits);
  return bind(new api.Instance(entry.module, { env: { memory } }), entry.module, memory, cache, entry.builder, options);
}

/** Workers of a gemm dropped without dispose() are stopped when it is collected. */
const unreferenced = new FinalizationRegistry<WorkerPool>((pool) => pool.dispose());

/** The functions workers run, by index in the pool's jobs. */
const WORKER_FUNCTIONS = ["f32_gemm_blocks", "f32_gemm_scatter"];
const [RUN_BLOCKS, RUN_SCATTER] = [0, 1];

function bind(instance: WasmInstance, module: WasmModule, memory: WasmMemory, cache: CacheModel, builder: ModuleBuilder, options: GemmOptions): Gemm {
  const pack4 = instance.exports[`f32_pack_${MR}`] as Pack;
  const pack8 = instance.exports[`f32_pack_${NR}`] as Pack;
  const macro = instance.exports[`f32_gemm_${MR}x${NR}`] as Macro;
  const blocks = instance.exports["f32_gemm_blocks"] as Blocks;
  const scatterBlocks = instance.exports["f32_gemm_scatter"] as Blocks;
  const threads = Math.max(1, Math.floor(options.threads ?? 1));
  let pool = threads > 1 ? new WorkerPool(module, memory, WORKER_FUNCTIONS, threads - 1, options.pool) : undefined;
  const minMacs = options.parallelMacs ?? DEFAULT_PARALLEL_MACS;
  let splits = 0;

  /** The blocks of one product on this thread, with a packer of op(A) in JavaScript. */
  function walk(args: ProductArgs, packA: PanelPacker, ldc: number, accumulate: boolean): void {
    const { m, k, n, b, c, transB, scratch, plan } = args;
    const tile = scratch;
    const bp = tile + TILE_BYTES;
    const ap = bp + plan.kc * plan.nc * F32;
    const ldb = (args.ldb ?? (transB ? k : n)) * F32;
    const [bRow, bDepth] = transB ? [ldb, F32] : [F32, ldb];
    for (let jc = 0; jc < n; jc += plan.nc) {
      const nc = Math.min(plan.nc, n - jc);
      for (let pc = 0; pc < k; pc += plan.kc) {
        const kc = Math.min(plan.kc, k - pc);
        pack8(b + jc * bRow + pc * bDepth, bRow, bDepth, nc, kc, bp);
        for (let ic = 0; ic < m; ic += plan.mc) {
          const mc = Math.min(plan.mc, m - ic);
          packA(ap, ic, mc, pc, kc);
          macro(mc, nc, kc, ap, bp, c + (ic * ldc + jc) * F32, ldc * F32, accumulate || pc > 0 ? 1 : 0, tile);
        }
      }
    }
  }

  function product(args: ProductArgs): void {
    const { m, k, n, a, b, c, transA, transB, scratch, plan, packA, scatter } = args;
    const ldc = args.ldc ?? n;
    const accumulate = args.accumulate ?? false;
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (scatter) return;
      if (!accumulate) for (let i = 0; i < m; i++) new Float32Array(memory.buffer, c + i * ldc * F32, n).fill(0);
      return;
    }
    if (typeof packA === "function") {
      if (scatter) throw new Error("a product with a JavaScript packer cannot scatter");
      return walk(args, packA, ldc, accumulate);
    }
    // R[r][p] at base + r * rowStride + p * depthStride: R = op(A) for A, op(B)ᵀ for B.
    const lda = (args.lda ?? (transA ? m : k)) * F32;
    const ldb = (args.ldb ?? (transB ? k : n)) * F32;
    const [aRow, aDepth] = transA ? [F32, lda] : [lda, F32];
    const [bRow, bDepth] = transB ? [ldb, F32] : [F32, ldb];
    const kind = packA === undefined ? PACK_STRIDED : packA.patches === "rows" ? PACK_PATCH_ROWS : PACK_PATCH_COLUMNS;
    const flags = (accumulate ? 1 : 0) | (kind << 1);
    const geo = packA === undefined ? 0 : packA.geometry;
    const share = scratchBytes(plan);
    const parts = splitProduct(m, n, k, pool ? threads : 1, { minMacs, patches: kind !== PACK_STRIDED, ...(scatter ? { rowUnit: scatter.image } : {}) });
    // f32_gemm_blocks' (or f32_gemm_scatter's) arguments for thread t's part.
    const argsOf = ({ i0, i1, j0, j1 }: Part, t: number): number[] => {
      const cAt = scatter ? c + t * scatter.rows * ldc * F32 : c + (i0 * ldc + j0) * F32;
      const common = [i0, i1 - i0, j1 - j0, k, a + i0 * aRow, aRow, aDepth, b + j0 * bRow, bRow, bDepth, cAt, ldc * F32, flags, geo, plan.mc, plan.kc, plan.nc, scratch + t * share];
      return scatter ? [...common, scatter.rows, scatter.geometry] : common;
    };
    const fn = scatter ? scatterBlocks : blocks;
    if (parts.length === 1) return fn(...argsOf(parts[0]!, 0));
    splits++;
    const jobs = parts.slice(1).map((p, w) => ({ fn: scatter ? RUN_SCATTER : RUN_BLOCKS, args: argsOf(p, w + 1) }));
    pool!.run(jobs, () => fn(...argsOf(parts[0]!, 0)));
  }

  function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA = false, transB = false): Float32Array {
    if (a.length !== m * k) throw new Error(`A has ${a.length} elements, not ${m} x ${k}`);
    if (b.length !== k * n) throw new Error(`B has ${b.length} elements, not ${k} x ${n}`);
    const plan = planGemm(Math.max(m, 1), Math.max(n, 1), Math.max(k, 1), cache);
    // Layout: scratch, A, B, C, each 16-byte aligned.
    const scratch = 0;
    const aAt = align16(scratch + scratchBytes(plan, threads));
    const bAt = align16(aAt + a.length * F32);
    const cAt = align16(bAt + b.length * F32);
    const end = cAt + m * n * F32;
    const pages = Math.ceil(end / PAGE_BYTES);
    const have = memory.buffer.byteLength / PAGE_BYTES;
    if (pages > have) memory.grow(pages - have);
    const heap = new Float32Array(memory.buffer);
    heap.set(a, aAt / F32);
    heap.set(b, bAt / F32);
    product({ m, k, n, a: aAt, b: bAt, c: cAt, transA, transB, scratch, plan });
    return new Float32Array(memory.buffer, cAt, m * n).slice();
  }

  const gemm: Gemm = {
    matmul,
    product,
    patches: patchKernels(instance.exports),
    memory,
    cache,
    threads,
    get splits() {
      return splits;
    },
    get pool() {
      return pool;
    },
    dispose() {
      pool?.dispose();
      pool = undefined;
    },
    get text() {
      return builder.toText();
    },
  };
  if (pool) unreferenced.register(gemm, pool);
  return gemm;
}
