// Batched matmul on the WebAssembly GEMM: A and B are copied into the heap
// whole (two memcpys), each batch is one product at its offsets, every
// transpose layout read in place by the packers, and C is copied out.

import { size } from "../ndarray.js";
import { scratchBytes } from "../../wasm/gemm.js";
import { HeapView, regions } from "../../wasm/heap.js";
import { planGemm } from "../../wasm/plan.js";
import type { Prepare } from "./products.js";

export const matmul: Prepare<"matmul"> = (engine, out, [as], { transA, transB }) => {
  const r = out.length;
  const m = out[r - 2]!;
  const n = out[r - 1]!;
  const k = transA ? as![r - 2]! : as![r - 1]!;
  const batches = size(out.slice(0, -2));
  const plan = planGemm(Math.max(m, 1), Math.max(n, 1), Math.max(k, 1), engine.gemm.cache);
  const {
    at: [aAt, bAt, cAt],
    end,
  } = regions(scratchBytes(plan), batches * m * k, batches * k * n, batches * m * n);
  const c = new HeapView(engine.heap, cAt!, batches * m * n);
  return {
    bytes: end,
    run(C, A, B) {
      const heap = engine.heap.f32;
      heap.set(A, aAt! >> 2);
      heap.set(B, bAt! >> 2);
      for (let t = 0; t < batches; t++) {
        engine.gemm.product({ m, k, n, a: aAt! + 4 * t * m * k, b: bAt! + 4 * t * k * n, c: cAt! + 4 * t * m * n, transA, transB, scratch: 0, plan });
      }
      C.set(c.array);
      engine.calls++;
    },
  };
};
