// Batched matmul on the WebAssembly GEMM: each batch is one product at its
// offsets in the plan's buffers, every transpose layout read in place by the
// packers.

import { size } from "../ndarray.js";
import { scratchBytes } from "../../wasm/gemm.js";
import { planGemm } from "../../wasm/plan.js";
import type { Prepare } from "./products.js";

export const matmul: Prepare<"matmul"> = (engine, out, [as], { transA, transB }) => {
  const r = out.length;
  const m = out[r - 2]!;
  const n = out[r - 1]!;
  const k = transA ? as![r - 2]! : as![r - 1]!;
  const batches = size(out.slice(0, -2));
  const plan = planGemm(Math.max(m, 1), Math.max(n, 1), Math.max(k, 1), engine.gemm.cache);
  return {
    scratchBytes: scratchBytes(plan, engine.gemm.threads),
    bind: (at) => () => {
      for (let t = 0; t < batches; t++) {
        engine.gemm.product({ m, k, n, a: at.a + 4 * t * m * k, b: at.b + 4 * t * k * n, c: at.out + 4 * t * m * n, transA, transB, scratch: at.scratch, plan });
      }
      engine.calls++;
    },
  };
};
