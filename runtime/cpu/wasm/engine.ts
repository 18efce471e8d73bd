// What computes the float32 executable's products (matmul and the three
// convolutions): the WebAssembly SIMD128 GEMM of runtime/wasm over one memory,
// or, where the host has no WebAssembly SIMD (or the JavaScript GEMM was
// asked for), the JavaScript kernels, with the reason kept for whoever asks.
//
// One engine serves every executable of a backend: runs are synchronous and
// never overlap, so they can share one memory, reserved once per plan for the
// largest product (operands, packed panels and output) and never shrunk.

import { wasmFeatures, type WasmFeatures } from "../../wasm/features.js";
import { createGemmSync, type Gemm } from "../../wasm/gemm.js";
import { Heap } from "../../wasm/heap.js";

export interface WasmEngine {
  readonly gemm: Gemm;
  readonly heap: Heap;
  /** Products run so far: how tests see that this path ran. */
  calls: number;
}

/** Which GEMM to use: the WebAssembly one where the host has it (the default), or the JavaScript one. */
export type GemmChoice = "wasm" | "js";

export type Products =
  | { readonly kind: "wasm"; readonly engine: WasmEngine }
  | { readonly kind: "js"; readonly reason: string };

/** The products an f32 executable runs: the wasm engine, or the JavaScript GEMM and why (`features` as probed, or as a test pretends). */
export function createProducts(want: GemmChoice = "wasm", features: WasmFeatures = wasmFeatures()): Products {
  if (want === "js") return { kind: "js", reason: "the JavaScript interpreter was asked for" };
  if (!features.wasm) return { kind: "js", reason: "this JavaScript host has no WebAssembly" };
  if (!features.simd) return { kind: "js", reason: "this host's WebAssembly has no SIMD128" };
  try {
    const gemm = createGemmSync();
    return { kind: "wasm", engine: { gemm, heap: new Heap(gemm.memory), calls: 0 } };
  } catch (e) {
    return { kind: "js", reason: `the WebAssembly GEMM did not compile: ${(e as Error).message}` };
  }
}
