import type { DimEnv } from "../../program/dim.js";
import type { Op, OpAttrs } from "../../program/ops.js";
import type { NDArray } from "../ndarray.js";

/** Computes a node into `out`, which the interpreter allocated with the node's shape and dtype. */
export type Kernel<O extends Op> = (out: NDArray, inputs: readonly NDArray[], attrs: OpAttrs[O], env: DimEnv) => void;

/** A kernel, or "alias": the output is the input's data under another shape (reshape, stopGradient). */
export type KernelTable<K extends Op> = { readonly [O in K]: Kernel<O> | "alias" | "source" };
