// The products the f32 executable runs on the WebAssembly GEMM, one entry per
// primitive in a table whose type demands them all. Each is prepared once per
// plan, for fixed shapes, in two steps: it says how many bytes of private
// scratch it needs (packed panels, a geometry block), and, once the plan has
// placed every buffer in the heap, it is bound to the addresses of its
// output, its operands and its scratch. The run then reads and writes the
// plan's buffers in place: no copies.

import type { OpAttrs } from "../../program/ops.js";
import type { WasmEngine } from "./engine.js";

export type ProductOp = "matmul" | "conv2d" | "conv2dInputGrad" | "conv2dFilterGrad";

/** Byte addresses in the heap of a product's buffers (each 16-byte aligned). */
export interface Placement {
  readonly out: number;
  readonly a: number;
  readonly b: number;
  /** The start of `scratchBytes` bytes the product may use freely while it runs. */
  readonly scratch: number;
}

export interface PreparedProduct {
  /** Bytes of private scratch the product needs. */
  readonly scratchBytes: number;
  /** The step: computes `out` from the node's two inputs at the placement's addresses. */
  bind(at: Placement): () => void;
}

/** Prepares a product for the output shape and the two input shapes. */
export type Prepare<O extends ProductOp> = (
  engine: WasmEngine,
  out: readonly number[],
  inputs: readonly (readonly number[])[],
  attrs: OpAttrs[O],
) => PreparedProduct;
