// Products on two threads (this one and a worker over the shared memory)
// against the same products on one, bit for bit: each element of C is
// computed by one thread, with the plan's depth blocks, in the order one
// thread computes it, so the results must be identical, not just close. All
// four layouts at awkward sizes (1, 3, 17, 129, 1000: splits by rows and by
// columns, clipped tiles, several depth blocks), strided and accumulated
// operands, and a small cache model that makes every dimension many blocks.
// Also how products are split, and the pool's failures: a worker that traps
// surfaces as an exception on this thread (and the pool keeps working), a
// worker that fails to start or never answers makes creation throw, and a
// process with a live pool still exits.

import test from "ava";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requireWasm } from "../../../runtime/wasm/api.js";
import { createGemmSync, emitGemmModule, scratchBytes, splitProduct, type Gemm, type Part } from "../../../runtime/wasm/gemm.js";
import { Heap, regions } from "../../../runtime/wasm/heap.js";
import { MR, NR, planGemm, type CacheModel } from "../../../runtime/wasm/plan.js";
import { WorkerPool } from "../../../runtime/wasm/workers.js";
import { Random } from "../../../runtime/random.js";
import { LAYOUTS } from "../../helpers/products.js";

const SIZES = [1, 3, 17, 129, 1000];

/** A 1-thread gemm and a 2-thread one that splits every product it can. */
function pair(cache?: CacheModel): [Gemm, Gemm] {
  const options = cache ? { cache } : {};
  return [createGemmSync(options), createGemmSync({ ...options, threads: 2, parallelMacs: 0 })];
}

function randoms(r: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => 2 * r.uniform() - 1);
}

/** The index of the first element whose bits differ, or -1. */
function firstDifference(x: Float32Array, y: Float32Array): number {
  const [u, v] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
  if (u.length !== v.length) return 0;
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return i;
  return -1;
}

const [one, two] = pair();
test.after.always(() => two.dispose());

for (const [transA, transB] of LAYOUTS) {
  const layout = `${transA ? "Aᵀ" : "A"}·${transB ? "Bᵀ" : "B"}`;
  test(`${layout} on two threads equals one thread bit for bit at sizes 1, 3, 17, 129, 1000`, (t) => {
    t.is(two.threads, 2);
    const r = new Random(7 + (transA ? 2 : 0) + (transB ? 1 : 0));
    const before = two.splits;
    let splittable = 0;
    for (const m of SIZES) {
      for (const k of SIZES) {
        for (const n of SIZES) {
          const [a, b] = [randoms(r, m * k), randoms(r, k * n)];
          const [c1, c2] = [one.matmul(a, b, m, k, n, transA, transB), two.matmul(a, b, m, k, n, transA, transB)];
          const at = firstDifference(c1, c2);
          if (at >= 0) return t.fail(`${layout} ${m}x${k}x${n}: element ${at} is ${c2[at]} on two threads, ${c1[at]} on one`);
          if (m > MR || n > NR) splittable++;
        }
      }
    }
    t.is(two.splits - before, splittable, "every product with more than one panel of rows or columns was split");
  });
}

test("strided, accumulated products and many blocks in every dimension: two threads equal one bit for bit", (t) => {
  const tiny = pair({ l1: 1024, l2: 4096, l3: 4096 });
  t.teardown(() => tiny[1].dispose());
  const r = new Random(3);
  for (const [m, k, n] of [[37, 300, 21], [65, 33, 129], [200, 70, 9], [5, 129, 300]] as const) {
    for (const [transA, transB] of LAYOUTS) {
      const plan = planGemm(m, n, k, tiny[0].cache);
      // A, B and C each sit in a wider matrix, as a group's slice of channels does.
      const [ar, ac] = transA ? [k, m] : [m, k];
      const [br, bc] = transB ? [n, k] : [k, n];
      const [lda, ldb, ldc] = [ac + 5, bc + 3, n + 2];
      const [a, b, c0] = [randoms(r, ar * lda), randoms(r, br * ldb), randoms(r, m * ldc)];
      const results = tiny.map((g) => {
        const { at, end } = regions(scratchBytes(plan, g.threads), ar * lda, br * ldb, m * ldc);
        const [aAt, bAt, cAt] = at as [number, number, number];
        const heap = new Heap(g.memory);
        heap.reserve(end);
        heap.f32.set(a, aAt >> 2);
        heap.f32.set(b, bAt >> 2);
        heap.f32.set(c0, cAt >> 2);
        g.product({ m, k, n, a: aAt, b: bAt, c: cAt, transA, transB, lda, ldb, ldc, scratch: 0, plan });
        g.product({ m, k, n, a: aAt, b: bAt, c: cAt, transA, transB, lda, ldb, ldc, accumulate: true, scratch: 0, plan });
        return heap.f32.slice(cAt >> 2, (cAt >> 2) + m * ldc);
      });
      const at = firstDifference(results[0]!, results[1]!);
      t.is(at, -1, `${m}x${k}x${n} ${transA} ${transB}: element ${at}`);
    }
  }
  t.true(tiny[1].splits > 0);
});

test("splitting: disjoint parts that cover C, at multiples of the tile (or of an image), only for large enough products", (t) => {
  const covers = (parts: Part[], m: number, n: number, unit: [number, number]): void => {
    const seen = new Uint8Array(m * n);
    for (const p of parts) {
      t.true(p.i0 < p.i1 && p.j0 < p.j1, `non-empty part ${JSON.stringify(p)}`);
      t.true(p.i0 % unit[0] === 0 && p.j0 % unit[1] === 0, `part ${JSON.stringify(p)} starts on a unit`);
      for (let i = p.i0; i < p.i1; i++) for (let j = p.j0; j < p.j1; j++) seen[i * n + j]!++;
    }
    t.true(seen.every((s) => s === 1), `${m}x${n}: every element in exactly one part`);
  };
  for (const [m, n, k] of [[1000, 17, 129], [17, 1000, 129], [5, 9, 3], [4, 8, 100], [129, 129, 1]] as const) {
    for (const threads of [2, 3, 5]) covers(splitProduct(m, n, k, threads, { minMacs: 0 }), m, n, [MR, NR]);
  }
  t.is(splitProduct(1000, 17, 129, 2, { minMacs: 0 }).length, 2);
  t.is(splitProduct(1000, 17, 129, 2, { minMacs: 0 })[0]!.j1, 17, "more rows than columns: split by rows");
  t.is(splitProduct(17, 1000, 129, 2, { minMacs: 0 })[0]!.i1, 17, "more columns than rows: split by columns");
  t.is(splitProduct(200, 400, 64, 2, { minMacs: 0, patches: true })[0]!.j1, 400, "patch-packed A is not packed twice: split by rows");
  t.is(splitProduct(4, 8, 1 << 20, 2, { minMacs: 0 }).length, 1, "one tile cannot be split");
  t.is(splitProduct(64, 64, 64, 2, { minMacs: 1 << 20 }).length, 1, "small products stay whole");
  // Whole images of 49 rows: 3 images on 2 threads, and 1 image stays on one.
  const images = splitProduct(147, 288, 64, 2, { minMacs: 0, rowUnit: 49 });
  t.deepEqual(images, [{ i0: 0, i1: 49, j0: 0, j1: 288 }, { i0: 49, i1: 147, j0: 0, j1: 288 }]);
  t.is(splitProduct(49, 288, 64, 2, { minMacs: 0, rowUnit: 49 }).length, 1);
});

test("a worker that traps surfaces as an exception on this thread, and the pool keeps working", (t) => {
  const g = createGemmSync({ threads: 2, parallelMacs: 0 });
  t.teardown(() => g.dispose());
  const heap = new Heap(g.memory);
  heap.reserve(1 << 20);
  const [m, k, n] = [64, 64, 64];
  const plan = planGemm(m, n, k, g.cache);
  // Rows of A lda floats apart: rows 0..31 (this thread's half) lie in memory, rows from 40 on (the worker's) past its end.
  const lda = Math.floor(heap.bytes / 4 / 40);
  const bAt = scratchBytes(plan, 2);
  const cAt = bAt + 4 * k * n;
  const error = t.throws(() => g.product({ m, k, n, a: 0, b: bAt, c: cAt, lda, transA: false, transB: false, scratch: 0, plan }));
  t.regex(error?.message ?? "", /^worker 1: RuntimeError: memory access out of bounds/);
  const [a, b] = [randoms(new Random(1), 100 * 90), randoms(new Random(2), 90 * 80)];
  const single = createGemmSync();
  t.is(firstDifference(g.matmul(a, b, 100, 90, 80), single.matmul(a, b, 100, 90, 80)), -1, "the next product is right");
});

test("a worker that fails to start, or never answers, makes creation throw instead of hanging", (t) => {
  const api = requireWasm();
  const limits = { initial: 1, maximum: 65536, shared: true };
  const module = new api.Module(emitGemmModule(limits).toBytes());
  const memory = new api.Memory(limits);
  t.throws(() => new WorkerPool(module, memory, ["f32_gemm_blocks", "no_such_function"], 1), { message: /^worker 1 failed to start: Error: the module exports no function no_such_function/ });
  const silent = { spawn: () => ({ post: () => {}, terminate: () => {} }) };
  t.throws(() => new WorkerPool(module, memory, ["f32_gemm_blocks"], 2, { host: silent, readyTimeout: 200 }), { message: "worker 1 of 2 did not start within 200 ms" });
  t.throws(() => new WorkerPool(module, new api.Memory({ initial: 1 }), ["f32_gemm_blocks"], 1), { message: "workers need a shared memory" });
  const pool = new WorkerPool(module, memory, ["f32_gemm_blocks"], 1);
  pool.dispose();
  t.throws(() => pool.run([], () => {}), { message: "the worker pool was disposed" });
});

test("a process whose gemm still has its workers exits, disposed or not", (t) => {
  const gemm = fileURLToPath(new URL("../../../runtime/wasm/gemm.ts", import.meta.url));
  for (const dispose of [false, true]) {
    const script = `
      const { createGemmSync } = await import(${JSON.stringify(gemm)});
      const g = createGemmSync({ threads: 2, parallelMacs: 0 });
      const c = g.matmul(new Float32Array(64 * 64).fill(1), new Float32Array(64 * 64).fill(1), 64, 64, 64);
      ${dispose ? "g.dispose();" : ""}
      console.log(c[0], g.splits);`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000, encoding: "utf8" });
    t.is(run.signal, null, `${dispose ? "disposed" : "not disposed"}: killed after 60 s (${run.stderr})`);
    t.is(run.status, 0, run.stderr);
    t.is(run.stdout.trim(), "64 1");
  }
});
