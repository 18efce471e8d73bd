// Every WebAssembly implementation of the f32 executable, in tables whose
// types demand them all: the products (on the SIMD GEMM) and the other
// kernels (emitted per plan). A fused group whose ops have no lanes runs its
// JavaScript kernel on views of the heap; a
// one-node step of an elementwise op, an index map or a computed source is a
// fused group of one (fused.ts).

import type { Op } from "../../program/ops.js";
import { conv2d, conv2dFilterGrad, conv2dInputGrad } from "./conv.js";
import { WASM_INDEXED, WASM_INDEXED_SCRATCH } from "./indexed.js";
import type { WasmKernelEmitter, WasmScratch } from "./kernel.js";
import { matmul } from "./matmul.js";
import { WASM_POOL } from "./pool.js";
import type { Prepare, ProductOp } from "./products.js";
import { WASM_REDUCE } from "./reduce.js";

export const WASM_PRODUCTS: { readonly [O in ProductOp]: Prepare<O> } = { matmul, conv2d, conv2dInputGrad, conv2dFilterGrad };

export function isProductOp(op: Op): op is ProductOp {
  return Object.hasOwn(WASM_PRODUCTS, op);
}

export const WASM_KERNELS = { ...WASM_POOL, ...WASM_REDUCE, ...WASM_INDEXED } as const;

export const WASM_SCRATCH: WasmScratch<Op> = WASM_INDEXED_SCRATCH;

/** The emitter of op's kernel, where there is one. */
export function wasmKernel<O extends Op>(op: O): WasmKernelEmitter<O> | undefined {
  return Object.hasOwn(WASM_KERNELS, op) ? (WASM_KERNELS[op as keyof typeof WASM_KERNELS] as unknown as WasmKernelEmitter<O>) : undefined;
}
