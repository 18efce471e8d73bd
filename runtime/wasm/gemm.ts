// SGEMM in WebAssembly SIMD128: C[m, n] = op(A)[m, k] · op(B)[k, n] over f32
// buffers in one WebAssembly.Memory, every transpose layout served by packing.
//
// Three functions are emitted by the assembler (runtime/wasm/assembler.ts),
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
//
// The block sizes come from plan.ts; the JavaScript driver here only walks the
// blocks and calls the packers and the macro-kernel, a few hundred calls for a
// 1024^3 product.
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
import { wasmFeatures } from "./features.js";
import { emitPatchFunctions, patchKernels, type PatchKernels } from "./patches.js";
import { DEFAULT_CACHE, MR, NR, planGemm, type CacheModel, type GemmPlan } from "./plan.js";

const F32 = 4;
const TILE_BYTES = MR * NR * F32;

// ---- emission ------------------------------------------------------------------

/** dst = min(cap, limit - from). */
function clippedWidth(f: FunctionBuilder, dst: Local, cap: number, limit: Local, from: Local): void {
  f.i32.const(cap);
  f.get(limit);
  f.get(from);
  f.i32.sub();
  f.local.tee(dst);
  f.get(dst);
  f.i32.const(cap);
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
function emitPack(m: ModuleBuilder, width: 4 | 8): void {
  const params = [["src", "i32"], ["rowStride", "i32"], ["depthStride", "i32"], ["rows", "i32"], ["depth", "i32"], ["dst", "i32"]] as const;
  m.function(`f32_pack_${width}`, params, [], (f) => {
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
 * `tile` is 128 bytes of scratch for clipped tiles.
 */
function emitGemm4x8(m: ModuleBuilder): void {
  const params = [["mc", "i32"], ["nc", "i32"], ["kc", "i32"], ["ap", "i32"], ["bp", "i32"], ["c", "i32"], ["ldc", "i32"], ["accumulate", "i32"], ["tile", "i32"]] as const;
  m.function(`f32_gemm_${MR}x${NR}`, params, [], (f) => {
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
              f.get(x);
              f.get(va);
              f.get(vb[h]!);
              f.f32x4.mul();
              f.f32x4.add();
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

/** The GEMM module: two packers, the 4x8 macro-kernel and the patch functions over one imported memory `env.memory`. */
export function emitGemmModule(memory: { readonly initial: number; readonly maximum?: number; readonly shared?: boolean }): ModuleBuilder {
  const m = new ModuleBuilder().importMemory({ module: "env", name: "memory", ...memory });
  emitPack(m, MR);
  emitPack(m, NR);
  emitGemm4x8(m);
  emitPatchFunctions(m);
  return m;
}

// ---- the driver --------------------------------------------------------------------

type Pack = (src: number, rowStride: number, depthStride: number, rows: number, depth: number, dst: number) => void;
type Macro = (mc: number, nc: number, kc: number, ap: number, bp: number, c: number, ldc: number, accumulate: number, tile: number) => void;

/**
 * Packs rows [r0, r0 + rows) of op(A), over depth [d0, d0 + depth), into
 * ceil(rows / 4) panels of depth x 4 floats at byte address `dst` (element
 * (r0 + 4q + i, d0 + p) at float (q * depth + p) * 4 + i, rows past the end
 * zero): the layout f32_pack_4 writes, as the patch packers of patches.ts do.
 */
export type PanelPacker = (dst: number, r0: number, rows: number, d0: number, depth: number) => void;

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
  readonly packA?: PanelPacker;
  /** scratchBytes(plan) bytes for the packed blocks and the edge tile. */
  readonly scratch: number;
  readonly plan: GemmPlan;
}

/** Bytes of scratch one product under `plan` needs: the packed blocks of A and B and a 4x8 tile. */
export function scratchBytes(plan: GemmPlan): number {
  return TILE_BYTES + plan.kc * plan.nc * F32 + plan.mc * plan.kc * F32;
}

export interface Gemm {
  /** C = op(A) · op(B) for row-major f32 A (m x k, or k x m if transA) and B (k x n, or n x k if transB). */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA?: boolean, transB?: boolean): Float32Array;
  /** The product over operands already in `memory`: what the executable calls. */
  product(args: ProductArgs): void;
  /** The convolutions' implicit im2col packers and col2im scatter over the same memory. */
  readonly patches: PatchKernels;
  readonly memory: WasmMemory;
  readonly cache: CacheModel;
  /** The emitted module in text form. */
  readonly text: string;
}

export interface GemmOptions {
  /** A shared memory, for workers (needs the threads proposal). */
  readonly shared?: boolean;
  readonly cache?: CacheModel;
}

const MAX_PAGES = 65536;

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

type Limits = { readonly initial: number; readonly maximum?: number; readonly shared?: boolean };

interface Setup {
  readonly api: WasmApi;
  readonly cache: CacheModel;
  readonly limits: Limits;
}

/** Checks the host for `options`; throws where WebAssembly, SIMD128 or a requested shared memory is missing. */
function setup(options: GemmOptions): Setup {
  const api = requireWasm();
  const features = wasmFeatures();
  if (!features.simd) throw new Error("this host's WebAssembly has no SIMD128");
  const shared = options.shared ?? false;
  if (shared && !features.sharedMemory) throw new Error("this host's WebAssembly has no shared memory");
  const limits = shared ? { initial: 1, maximum: MAX_PAGES, shared: true } : { initial: 1 };
  return { api, cache: options.cache ?? DEFAULT_CACHE, limits };
}

/** Compiles the GEMM module over a fresh memory. Rejects where WebAssembly SIMD128 is missing. */
export async function createGemm(options: GemmOptions = {}): Promise<Gemm> {
  const { api, cache, limits } = setup(options);
  const module = emitGemmModule(limits);
  const memory = new api.Memory(limits);
  const instance = await api.instantiate(await api.compile(module.toBytes()), { env: { memory } });
  return bind(instance, memory, cache, module);
}

/** The module emitted and compiled for each memory's limits: synchronous compilation happens once per process. */
const compiled = new Map<string, { readonly builder: ModuleBuilder; readonly module: WasmModule }>();

/**
 * The same, compiled synchronously, for the CPU executable, whose runs are
 * synchronous. The module is 1.3 KB and compiles in under a millisecond in
 * Node (browsers allow synchronous compilation on the main thread up to
 * 4 KB). Throws where WebAssembly SIMD128 is missing.
 */
export function createGemmSync(options: GemmOptions = {}): Gemm {
  const { api, cache, limits } = setup(options);
  const key = JSON.stringify(limits);
  let entry = compiled.get(key);
  if (!entry) {
    const builder = emitGemmModule(limits);
    compiled.set(key, (entry = { builder, module: new api.Module(builder.toBytes()) }));
  }
  const memory = new api.Memory(limits);
  return bind(new api.Instance(entry.module, { env: { memory } }), memory, cache, entry.builder);
}

function bind(instance: WasmInstance, memory: WasmMemory, cache: CacheModel, module: ModuleBuilder): Gemm {
  const pack4 = instance.exports[`f32_pack_${MR}`] as Pack;
  const pack8 = instance.exports[`f32_pack_${NR}`] as Pack;
  const macro = instance.exports[`f32_gemm_${MR}x${NR}`] as Macro;

  function product(args: ProductArgs): void {
    const { m, k, n, a, b, c, transA, transB, scratch, plan, packA } = args;
    const ldc = args.ldc ?? n;
    const accumulate = args.accumulate ?? false;
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!accumulate) for (let i = 0; i < m; i++) new Float32Array(memory.buffer, c + i * ldc * F32, n).fill(0);
      return;
    }
    const tile = scratch;
    const bp = tile + TILE_BYTES;
    const ap = bp + plan.kc * plan.nc * F32;
    // R[r][p] at base + r * rowStride + p * depthStride: R = op(A) for A, op(B)ᵀ for B.
    const lda = (args.lda ?? (transA ? m : k)) * F32;
    const ldb = (args.ldb ?? (transB ? k : n)) * F32;
    const [aRow, aDepth] = transA ? [F32, lda] : [lda, F32];
    const [bRow, bDepth] = transB ? [ldb, F32] : [F32, ldb];
    for (let jc = 0; jc < n; jc += plan.nc) {
      const nc = Math.min(plan.nc, n - jc);
      for (let pc = 0; pc < k; pc += plan.kc) {
        const kc = Math.min(plan.kc, k - pc);
        pack8(b + jc * bRow + pc * bDepth, bRow, bDepth, nc, kc, bp);
        for (let ic = 0; ic < m; ic += plan.mc) {
          const mc = Math.min(plan.mc, m - ic);
          if (packA) packA(ap, ic, mc, pc, kc);
          else pack4(a + ic * aRow + pc * aDepth, aRow, aDepth, mc, kc, ap);
          macro(mc, nc, kc, ap, bp, c + (ic * ldc + jc) * F32, ldc * F32, accumulate || pc > 0 ? 1 : 0, tile);
        }
      }
    }
  }

  function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA = false, transB = false): Float32Array {
    if (a.length !== m * k) throw new Error(`A has ${a.length} elements, not ${m} x ${k}`);
    if (b.length !== k * n) throw new Error(`B has ${b.length} elements, not ${k} x ${n}`);
    const plan = planGemm(Math.max(m, 1), Math.max(n, 1), Math.max(k, 1), cache);
    // Layout: scratch, A, B, C, each 16-byte aligned.
    const scratch = 0;
    const aAt = align16(scratch + scratchBytes(plan));
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

  return {
    matmul,
    product,
    patches: patchKernels(instance.exports),
    memory,
    cache,
    get text() {
      return module.toText();
    },
  };
}
