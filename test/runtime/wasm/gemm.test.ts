// The WebAssembly SGEMM against a float64 reference loop written from the
// definition, on random inputs of awkward shapes (sizes of 1, primes, sizes
// that are not multiples of the 4x8 tile, k of 0 and 1, shapes that cross the
// cache blocks) in all four transpose layouts: normwise relative error
// ||C - C_ref||_F / ||C_ref||_F <= 1e-5; the same for products over
// operands with row strides of their own, accumulated into C, or with A packed
// by a packer of the caller's. Also the tile plan's invariants.

import test from "ava";
import { createGemm, createGemmSync, scratchBytes, type Gemm, type PanelPacker } from "../../../runtime/wasm/gemm.js";
import { Heap, regions } from "../../../runtime/wasm/heap.js";
import { blockSize, DEFAULT_CACHE, MR, NR, planGemm } from "../../../runtime/wasm/plan.js";
import { Random } from "../../../runtime/random.js";
import { LAYOUTS } from "../../helpers/products.js";

/** Uniform draws in [0, 1) from the runtime's seeded generator, so failures reproduce. */
function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.uniform();
}

function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i]! : a[i * k + p]!) * (transB ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = s;
    }
  }
  return c;
}

function relativeError(c: Float32Array, ref: Float64Array): number {
  let err = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    err += (c[i]! - ref[i]!) ** 2;
    norm += ref[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
}

const SHAPES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [1, 7, 1],
  [4, 1, 8],
  [5, 1, 9],
  [7, 13, 31],
  [13, 7, 3],
  [31, 31, 31],
  [8, 0, 8],
  [3, 0, 5],
  [4, 16, 8],
  [12, 5, 24],
  [65, 17, 66],
  [130, 64, 129],
  [3, 300, 2],
  [1, 513, 17],
  [33, 1, 257],
];

let shared: Promise<Gemm> | undefined;
const gemm = (): Promise<Gemm> => (shared ??= createGemm());
/** The micro-kernel without fused multiply-adds: what hosts without relaxed SIMD run. */
let plain: Promise<Gemm> | undefined;
const gemmWithoutFma = (): Promise<Gemm> => (plain ??= createGemm({ fma: false }));

for (const [transA, transB] of LAYOUTS) {
  const layout = `${transA ? "Aᵀ" : "A"}·${transB ? "Bᵀ" : "B"}`;
  for (const [kernel, make] of [["fused multiply-adds", gemm], ["a multiply and an add", gemmWithoutFma]] as const) test(`${layout} matches the float64 reference on awkward shapes (${kernel})`, async (t) => {
    const g = await make();
    const r = rng(1 + (transA ? 2 : 0) + (transB ? 1 : 0));
    for (const [m, k, n] of SHAPES) {
      const a = Float32Array.from({ length: m * k }, () => 2 * r() - 1);
      const b = Float32Array.from({ length: k * n }, () => 2 * r() - 1);
      const c = g.matmul(a, b, m, k, n, transA, transB);
      t.is(c.length, m * n);
      const ref = reference(a, b, m, k, n, transA, transB);
      const err = relativeError(c, ref);
      t.true(err <= 1e-5, `${layout} ${m}x${k}x${n}: relative error ${err}`);
      if (k === 0) t.true(c.every((x) => x === 0), `${m}x0x${n} is all zeros`);
    }
  });
}

test("random shapes, and a small cache model that forces many blocks in every dimension", async (t) => {
  const r = rng(42);
  const tiny = await createGemm({ cache: { l1: 1024, l2: 4096, l3: 4096 } });
  const plan = planGemm(70, 90, 100, tiny.cache);
  t.true(plan.kc < 100 && plan.mc < 70 && plan.nc < 90, JSON.stringify(plan));
  const g = await gemm();
  for (let trial = 0; trial < 24; trial++) {
    const m = 1 + Math.floor(r() * 80);
    const k = Math.floor(r() * 120);
    const n = 1 + Math.floor(r() * 80);
    const transA = r() < 0.5;
    const transB = r() < 0.5;
    const a = Float32Array.from({ length: m * k }, () => 2 * r() - 1);
    const b = Float32Array.from({ length: k * n }, () => 2 * r() - 1);
    const ref = reference(a, b, m, k, n, transA, transB);
    for (const [name, impl] of [["default", g], ["tiny cache", tiny]] as const) {
      const err = relativeError(impl.matmul(a, b, m, k, n, transA, transB), ref);
      t.true(err <= 1e-5, `${name} ${m}x${k}x${n} ${transA} ${transB}: ${err}`);
    }
  }
});

test("results do not depend on what the memory held before (a large product, then small ones)", async (t) => {
  const g = await gemm();
  const r = rng(7);
  const big = Float32Array.from({ length: 200 * 200 }, () => r());
  g.matmul(big, big, 200, 200, 200);
  const a = Float32Array.from({ length: 6 * 3 }, () => r());
  const b = Float32Array.from({ length: 3 * 5 }, () => r());
  t.true(relativeError(g.matmul(a, b, 6, 3, 5), reference(a, b, 6, 3, 5, false, false)) <= 1e-5);
  t.throws(() => g.matmul(a, b, 6, 4, 5), { message: /A has 18 elements/ });
});

test("a shared memory computes the same product", async (t) => {
  const g = await createGemm({ shared: true });
  t.true(g.memory.buffer instanceof SharedArrayBuffer);
  const r = rng(3);
  const a = Float32Array.from({ length: 37 * 41 }, () => r() - 0.5);
  const b = Float32Array.from({ length: 41 * 19 }, () => r() - 0.5);
  t.true(relativeError(g.matmul(a, b, 37, 41, 19), reference(a, b, 37, 41, 19, false, false)) <= 1e-5);
});

test("the tile plan: aligned blocks that fit the cache model and split each dimension evenly", (t) => {
  t.is(blockSize(784, 256, 1), 196);
  t.is(blockSize(10, 256, 4), 12);
  for (const [m, n, k] of [[1, 1, 1], [1024, 1024, 1024], [128, 784, 100], [4096, 30, 9000]] as const) {
    const plan = planGemm(m, n, k);
    t.is(plan.mr, MR);
    t.is(plan.nr, NR);
    t.is(plan.mc % MR, 0);
    t.is(plan.nc % NR, 0);
    t.true(plan.kc <= k && plan.kc * NR * 4 <= DEFAULT_CACHE.l1 / 4);
    t.true(plan.mc * plan.kc * 4 <= DEFAULT_CACHE.l2 / 2 || plan.mc === MR);
    t.true(plan.kc * plan.nc * 4 <= DEFAULT_CACHE.l3 / 2 || plan.nc === NR);
    t.true(plan.mc < m + MR && plan.nc < n + NR);
    t.true(scratchBytes(plan) > 0);
  }
  t.deepEqual(planGemm(1024, 1024, 1024), { mr: 4, nr: 8, mc: 256, kc: 256, nc: 1024 });
});

test("the emitted module reads as text with kernels named by what they compute", async (t) => {
  const g = await gemm();
  t.regex(g.text, /\(func \$f32_gemm_4x8 /);
  t.regex(g.text, /\(func \$f32_pack_4 /);
  t.regex(g.text, /\(func \$f32_pack_8 /);
  t.regex(g.text, /v128\.load32_splat offset=12/);
  // Node 20 has relaxed SIMD behind a flag the features probe turns on: the kernel uses its FMA.
  t.regex(g.text, /f32x4\.relaxed_madd/);
  t.notRegex((await gemmWithoutFma()).text, /relaxed_madd/);
});

/** Packs op(A) (A row-major m x k, or k x m if transA) into 4-row panels at byte `dst` of g's memory, as f32_pack_4 does. */
function panelsOf(a: Float32Array, m: number, k: number, transA: boolean, g: Gemm): PanelPacker {
  return (dst, r0, rows, d0, depth) => {
    const panels = new Float32Array(g.memory.buffer, dst, Math.ceil(rows / MR) * MR * depth);
    for (let q = 0; q < Math.ceil(rows / MR) * MR; q++) {
      for (let p = 0; p < depth; p++) {
        const [i, j] = [r0 + q, d0 + p];
        panels[Math.floor(q / MR) * depth * MR + p * MR + (q % MR)] = q < rows ? a[transA ? j * m + i : i * k + j]! : 0;
      }
    }
  };
}

test("product over strided operands in memory: row strides, accumulation, and a packer of the caller's for A", (t) => {
  const g = createGemmSync();
  const heap = new Heap(g.memory);
  const r = rng(9);
  for (const [m, k, n] of [[1, 1, 1], [7, 13, 9], [37, 300, 21], [65, 3, 129]] as const) {
    for (const [transA, transB] of LAYOUTS) {
      const plan = planGemm(m, n, k);
      // A, B and C each sit in a wider matrix (5, 3 and 2 extra columns), as a group's slice of channels does.
      const [ar, ac] = transA ? [k, m] : [m, k];
      const [br, bc] = transB ? [n, k] : [k, n];
      const [lda, ldb, ldc] = [ac + 5, bc + 3, n + 2];
      const { at, end } = regions(scratchBytes(plan), ar * lda, br * ldb, m * ldc);
      const [aAt, bAt, cAt] = at as [number, number, number];
      heap.reserve(end);
      const f = heap.f32;
      const a = Float32Array.from({ length: ar * ac }, () => 2 * r() - 1);
      const b = Float32Array.from({ length: br * bc }, () => 2 * r() - 1);
      for (let i = 0; i < ar; i++) for (let j = 0; j < lda; j++) f[(aAt >> 2) + i * lda + j] = j < ac ? a[i * ac + j]! : NaN;
      for (let i = 0; i < br; i++) for (let j = 0; j < ldb; j++) f[(bAt >> 2) + i * ldb + j] = j < bc ? b[i * bc + j]! : NaN;
      const c0 = Float32Array.from({ length: m * ldc }, () => 2 * r() - 1);
      const ref = reference(a, b, m, k, n, transA, transB);
      const what = `${m}x${k}x${n} ${transA} ${transB}`;
      const result = (accumulated: boolean): Float32Array => {
        const c = new Float32Array(m * n);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) c[i * n + j] = f[(cAt >> 2) + i * ldc + j]! - (accumulated ? c0[i * ldc + j]! : 0);
          for (let j = n; j < ldc; j++) t.is(f[(cAt >> 2) + i * ldc + j], c0[i * ldc + j], `${what}: padding column ${j} of row ${i} untouched`);
        }
        return c;
      };
      f.set(c0, cAt >> 2);
      g.product({ m, k, n, a: aAt, b: bAt, c: cAt, transA, transB, lda, ldb, ldc, scratch: 0, plan });
      t.true(relativeError(result(false), ref) <= 1e-5, `${what}: strided`);
      f.set(c0, cAt >> 2);
      g.product({ m, k, n, a: aAt, b: bAt, c: cAt, transA, transB, lda, ldb, ldc, accumulate: true, scratch: 0, plan });
      t.true(relativeError(result(true), ref) <= 1e-5, `${what}: accumulated`);
      // A packer of op(A) written here in JavaScript, from `a` outside the memory.
      f.set(c0, cAt >> 2);
      g.product({ m, k, n, a: -1, b: bAt, c: cAt, transA: false, transB, ldb, ldc, packA: panelsOf(a, m, k, transA, g), scratch: 0, plan });
      t.true(relativeError(result(false), ref) <= 1e-5, `${what}: packed by JavaScript`);
    }
  }
});

test("the synchronously compiled module computes what the asynchronous one does", async (t) => {
  const r = rng(12);
  const a = Float32Array.from({ length: 19 * 23 }, () => r() - 0.5);
  const b = Float32Array.from({ length: 23 * 29 }, () => r() - 0.5);
  const sync = createGemmSync();
  t.not(sync.memory, (await gemm()).memory, "a fresh memory per instance");
  t.deepEqual(sync.matmul(a, b, 19, 23, 29), (await gemm()).matmul(a, b, 19, 23, 29));
});
