// The WebGPU program of a graph: WGSL kernels over buffers, in execution order.
//
// Every kernel binds, at group 0, the `dims` uniform (the values of the
// symbolic sizes, as u32 in `symbols` order) at binding 0, then its buffers.
// Kernels are dispatched over a linear grid of workgroups, the product of
// ceil(size / per) over the grid's terms, which the runtime folds into x and y
// when it exceeds the adapter's per-dimension limit; a kernel recovers its
// linear workgroup index from both.
// Plain data: WGSL is shader source for the GPU, never JavaScript.

import type { Dim } from "./dim.js";
import type { GraphProgram } from "./program.js";

export interface GpuBinding {
  /** The graph node whose value the buffer holds. */
  readonly node: number;
  readonly write: boolean;
}

export interface GridTerm {
  readonly size: Dim;
  readonly per: number;
}

export interface GpuKernel {
  readonly name: string;
  readonly wgsl: string;
  /** Buffers at bindings 1, 2, ... */
  readonly bindings: readonly GpuBinding[];
  /** The grid: the product over terms of ceil(size / per) workgroups. */
  readonly grid: readonly GridTerm[];
  /** The primitives it computes, for `dlc inspect`. */
  readonly ops: readonly string[];
  /** Bytes it reads and writes per run, counted from its bindings: one term per buffer (for benchmarks). */
  readonly bytes: readonly Dim[];
}

export interface GpuProgram {
  readonly graph: GraphProgram;
  /** Symbolic sizes in the order of the `dims` uniform's fields. */
  readonly symbols: readonly string[];
  /** Nodes that live in buffers (inputs, parameters and outputs among them). */
  readonly buffers: readonly number[];
  /** Views: a node that shares the buffer of another (reshapes). */
  readonly views: readonly { readonly node: number; readonly of: number }[];
  readonly kernels: readonly GpuKernel[];
}
