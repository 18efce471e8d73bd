// The products the f32 executable runs on the WebAssembly GEMM, one entry per
// primitive in a table whose type demands them all. Each is prepared once per
// plan, for fixed shapes: it says how many bytes of the heap it needs (the
// executable reserves the largest once) and returns the call a step makes.

import type { OpAttrs } from "../../program/ops.js";
import type { WasmEngine } from "./engine.js";

export type ProductOp = "matmul" | "conv2d" | "conv2dInputGrad" | "conv2dFilterGrad";

export interface PreparedProduct {
  /** Heap bytes the product uses, from address 0. */
  readonly bytes: number;
  /** Computes `out` from the node's two inputs. */
  run(out: Float32Array, a: Float32Array, b: Float32Array): void;
}

/** Prepares a product for the output shape and the two input shapes. */
export type Prepare<O extends ProductOp> = (
  engine: WasmEngine,
  out: readonly number[],
  inputs: readonly (readonly number[])[],
  attrs: OpAttrs[O],
) => PreparedProduct;
