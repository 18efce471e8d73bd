// The WebGPU program of a graph: WGSL kernels over buffers, in execution order.
//
// Every kernel binds, at group 0, the `dims` uniform (the values of the
// symbolic sizes, as u32 in `symbols` order) at binding 0, then its buffers.
// Kernels are dispatched over a linear grid of workgroups, the product of
// ceil(size / per) over the grid's terms, which the runtime folds into x and y
// when it exceeds the adapter's per-dimension limit; a kernel recovers its
// linear workgroup index from both.
// A contraction kernel may carry variants of another kernel family, which
// the runtime runs instead on adapters they suit (runtime/webgpu/kernel-family.ts).
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

/**
 * The two families of kernels. `software` is tuned for adapters that run on the CPU (llvmpipe,
 * SwiftShader): register tiles, workgroups of 8 invocations, no workgroup memory in the
 * products. `hardware` is for GPUs: products tiled through workgroup memory.
 */
export const KERNEL_FAMILIES = ["software", "hardware"] as const;
export type KernelFamily = (typeof KERNEL_FAMILIES)[number];

/**
 * A hardware product's workgroup tile: a rows x cols block of the result, computed by
 * (rows / block[0]) x (cols / block[1]) invocations that each accumulate a block[0] x block[1]
 * register block, while the reduction is staged `depth` steps at a time through workgroup
 * memory. With 2 buffers the next slice loads while this one is used: one barrier per slice
 * instead of two, for twice the memory.
 */
export interface WorkgroupTile {
  readonly rows: number;
  readonly cols: number;
  readonly depth: number;
  readonly block: readonly [number, number];
  readonly buffers: 1 | 2;
}

export const tileThreads = (t: WorkgroupTile): number => (t.rows / t.block[0]) * (t.cols / t.block[1]);
/** Workgroup memory: both operands' slices (rows x depth and depth x cols floats), per buffer. */
export const tileBytes = (t: WorkgroupTile): number => t.buffers * t.depth * (t.rows + t.cols) * 4;
/** "64x64x16, 4x4 per invocation, 256 invocations, 2 buffers (16 KiB)" */
export const describeTile = (t: WorkgroupTile): string =>
  `${t.rows}x${t.cols}x${t.depth}, ${t.block[0]}x${t.block[1]} per invocation, ${tileThreads(t)} invocations, ${t.buffers} buffer${t.buffers === 1 ? "" : "s"} (${tileBytes(t) / 1024} KiB)`;

/** What a product computes: `count` products of rows x depth by depth x cols (a convolution as its implicit matrix product). */
export interface ProductShape {
  readonly rows: Dim;
  readonly cols: Dim;
  readonly depth: Dim;
  readonly count: Dim;
}

/** A kernel of the hardware family that computes what its kernel computes, over the same graph. */
export interface GpuVariant extends GpuKernelCode {
  readonly family: "hardware";
  readonly tile: WorkgroupTile;
  readonly product: ProductShape;
}

export interface GpuKernel extends GpuKernelCode {
  /** Hardware variants (contractions only; absent in artifacts written before there were any). */
  readonly variants?: readonly GpuVariant[];
}

/** A kernel as the runtime runs it. */
export interface GpuKernelCode {
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
