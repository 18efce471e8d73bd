// Which kernels run on a device. An artifact carries, for each contraction,
// the software family's kernel and the hardware family's variants (one per
// workgroup tile worth having); every other kernel exists once. The family
// follows the adapter unless asked for: the software family on a CPU behind
// a GPU's interface (llvmpipe, lavapipe, SwiftShader), where workgroup
// memory and barriers are dear; the hardware family on a GPU. Under the
// hardware family each contraction runs its cheapest variant that fits the
// device's limits (tile-cost.ts), or its software kernel where none fits
// (or the artifact predates the variants). Pure functions of the program and
// the device's description, so that they are tested without an adapter.

import { KERNEL_FAMILIES, type GpuKernel, type GpuKernelCode, type GpuProgram, type KernelFamily, type WorkgroupTile } from "../program/gpu.js";
import { chooseTile, type TileLimits } from "../program/tile-cost.js";

/** `auto`: the family that suits the adapter. */
export const KERNEL_CHOICES = ["auto", ...KERNEL_FAMILIES] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];

/** The family asked for, or the one that suits the adapter (`software`: a CPU behind a GPU's interface). */
export function familyFor(software: boolean, choice: KernelChoice = "auto"): KernelFamily {
  return choice !== "auto" ? choice : software ? "software" : "hardware";
}

/** A kernel as it runs on a device: its family (none for a kernel both families share), and a hardware variant's tile. */
export interface ChosenKernel {
  readonly code: GpuKernelCode;
  readonly family?: KernelFamily;
  readonly tile?: WorkgroupTile;
}

export function chooseKernel(k: GpuKernel, family: KernelFamily, limits: TileLimits): ChosenKernel {
  if (!k.variants?.length) return { code: codeOf(k) };
  const variant = family === "hardware" ? chooseTile(k.variants, k.variants[0]!.product, limits) : undefined;
  if (!variant) return { code: codeOf(k), family: "software" };
  return { code: codeOf(variant), family: "hardware", tile: variant.tile };
}

/** The program with every kernel as the family runs it on a device of these limits. */
export function selectKernels(program: GpuProgram, family: KernelFamily, limits: TileLimits): GpuProgram {
  return { ...program, kernels: program.kernels.map((k) => chooseKernel(k, family, limits).code) };
}

const codeOf = (k: GpuKernelCode): GpuKernelCode => ({ name: k.name, wgsl: k.wgsl, bindings: k.bindings, grid: k.grid, ops: k.ops, bytes: k.bytes });
