// Every product primitive's WebAssembly implementation, in one table whose type demands them all.

import type { Op } from "../../program/ops.js";
import { conv2d, conv2dFilterGrad, conv2dInputGrad } from "./conv.js";
import { matmul } from "./matmul.js";
import type { Prepare, ProductOp } from "./products.js";

export const WASM_PRODUCTS: { readonly [O in ProductOp]: Prepare<O> } = { matmul, conv2d, conv2dInputGrad, conv2dFilterGrad };

export function isProductOp(op: Op): op is ProductOp {
  return Object.hasOwn(WASM_PRODUCTS, op);
}
