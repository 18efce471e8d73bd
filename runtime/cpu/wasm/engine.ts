// What computes the float32 executable's products (matmul and the three
// convolutions): the WebAssembly SIMD128 GEMM of runtime/wasm over one memory,
// or, where the host has no WebAssembly SIMD (or the JavaScript GEMM was
// asked for), the JavaScript kernels, with the reason kept for whoever asks.
//
// One engine serves every executable of a backend: runs are synchronous and
// never overlap, so they can share one memory, reserved once per plan for the
// largest product (operands, packed panels and output) and never shrunk.
// With more than one thread the memory is shared and each product is split
// between this thread and a pool of workers (runtime/wasm/workers.ts); where
// that is impossible the engine runs on one thread and says why.

import { wasmFeatures, type WasmFeatures } from "../../wasm/features.js";
import { createGemmSync, type Gemm } from "../../wasm/gemm.js";
import { Heap } from "../../wasm/heap.js";
import { workerHostOrWhy } from "../../wasm/workers.js";

export interface WasmEngine {
  readonly gemm: Gemm;
  readonly heap: Heap;
  /** Products run so far: how tests see that this path ran. */
  calls: number;
  /** Why products run on one thread although more were asked for. */
  readonly oneThread?: string;
  /** The least cost a kernel other than a product splits across threads at (executable.ts's default otherwise). */
  readonly parallelCost?: number;
}

/** Which GEMM to use: the WebAssembly one where the host has it (the default), or the JavaScript one. */
export type GemmChoice = "wasm" | "js";

export type Products =
  | { readonly kind: "wasm"; readonly engine: WasmEngine }
  | { readonly kind: "js"; readonly reason: string };

/** Tuning of a threaded engine, for tests and benchmarks. */
export interface ThreadOptions {
  /** The least m·n·k a product splits across threads at (gemm.ts's default otherwise). */
  readonly parallelMacs?: number;
  /** The least cost another kernel splits at (executable.ts's PARALLEL_COST otherwise). */
  readonly parallelCost?: number;
}

/**
 * The products an f32 executable runs: the wasm engine on `threads` threads
 * (this one included), or the JavaScript GEMM and why (`features` as probed,
 * or as a test pretends).
 */
export function createProducts(want: GemmChoice = "wasm", features: WasmFeatures = wasmFeatures(), threads = 1, options: ThreadOptions = {}): Products {
  if (want === "js") return { kind: "js", reason: "the JavaScript interpreter was asked for" };
  if (!features.wasm) return { kind: "js", reason: "this JavaScript host has no WebAssembly" };
  if (!features.simd) return { kind: "js", reason: "this host's WebAssembly has no SIMD128" };
  let oneThread: string | undefined;
  const host = threads > 1 ? workerHostOrWhy() : undefined;
  if (typeof host === "string") oneThread = host;
  else if (threads > 1 && !features.sharedMemory) oneThread = "this host's WebAssembly has no shared memory";
  else if (threads > 1) {
    try {
      const gemm = createGemmSync({ threads, ...(options.parallelMacs !== undefined ? { parallelMacs: options.parallelMacs } : {}) });
      return { kind: "wasm", engine: { gemm, heap: new Heap(gemm.memory), calls: 0, ...(options.parallelCost !== undefined ? { parallelCost: options.parallelCost } : {}) } };
    } catch (e) {
      oneThread = `the workers did not start: ${(e as Error).message}`;
    }
  }
  try {
    // Shared where the host allows, even on one thread: growing a shared memory never detaches views of it, so values can stay in it between runs.
    const gemm = createGemmSync({ shared: features.sharedMemory });
    return { kind: "wasm", engine: { gemm, heap: new Heap(gemm.memory), calls: 0, ...(oneThread ? { oneThread } : {}) } };
  } catch (e) {
    return { kind: "js", reason: `the WebAssembly GEMM did not compile: ${(e as Error).message}` };
  }
}
