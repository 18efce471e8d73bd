// Which workgroup tile runs a hardware product: those that fit the device's
// limits, and of them the cheapest by a small cost model. The compiler asks
// it which tiles are worth emitting (hardware.ts), the runtime which to run
// (runtime/webgpu/kernel-family.ts).
//
// The model counts one invocation's work per slice of the reduction:
// reading its operands out of workgroup memory, its multiply-adds, its share
// of staging the slice from the buffers, and the barriers; the slices run
// one after another. The device is assumed to be CORES compute units (WebGPU
// does not say how many), each issuing for CORE_LANES invocations at a time:
// workgroups are dealt out to the units, and a unit takes as long as its
// workgroups' invocations take to issue. So a large tile wins on a large
// product (fewer loads per multiply-add, and no unit idle), a small one on a
// small product (more units busy). The weights are the usual relative costs
// on GPUs, not measurements: there is no hardware adapter where dlc is tested.

import { nominal } from "./dim.js";
import { tileBytes, tileThreads, type ProductShape, type WorkgroupTile } from "./gpu.js";

/** The device limits a tile must fit (GPUSupportedLimits' names). */
export interface TileLimits {
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

/** WebGPU's defaults, which every adapter offers: what a device gets unless it asks for more. */
export const DEFAULT_LIMITS: TileLimits = { maxComputeWorkgroupSizeX: 256, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384 };

const CORES = 32;
const CORE_LANES = 64;
const SHARED_LOAD = 1;
const FMA = 0.5;
const GLOBAL_LOAD = 4;
const BARRIER = 16;
const STORE = 8;

export function fits(t: WorkgroupTile, limits: TileLimits): boolean {
  const threads = tileThreads(t);
  return threads <= limits.maxComputeWorkgroupSizeX && threads <= limits.maxComputeInvocationsPerWorkgroup && tileBytes(t) <= limits.maxComputeWorkgroupStorageSize;
}

/** The product's time with this tile, in arbitrary units (symbolic sizes at their nominal values). */
export function tileCost(t: WorkgroupTile, p: ProductShape): number {
  const [M, N, K, count] = [p.rows, p.cols, p.depth, p.count].map(nominal) as [number, number, number, number];
  const threads = tileThreads(t);
  const [r, c] = t.block;
  const groups = count * Math.ceil(M / t.rows) * Math.ceil(N / t.cols);
  const perUnit = Math.ceil(groups / CORES) * Math.max(1, threads / CORE_LANES);
  const perSlice = t.depth * ((r + c) * SHARED_LOAD + r * c * FMA) + ((t.rows + t.cols) * t.depth * GLOBAL_LOAD) / threads + BARRIER * (t.buffers === 2 ? 1 : 2);
  return perUnit * (Math.ceil(K / t.depth) * perSlice + r * c * STORE);
}

/** The cheapest of `tiles` that fits, or undefined when none does (the first of equals). */
export function chooseTile<T extends { readonly tile: WorkgroupTile }>(candidates: readonly T[], p: ProductShape, limits: TileLimits): T | undefined {
  let best: T | undefined;
  let bestCost = Infinity;
  for (const c of candidates) {
    if (!fits(c.tile, limits)) continue;
    const cost = tileCost(c.tile, p);
    if (cost < bestCost) [best, bestCost] = [c, cost];
  }
  return best;
}

/**
 * The tiles some device would choose for this product: a tile is dropped when another needs no
 * more invocations and no more memory and costs no more (and comes first, among equals).
 */
export function usefulTiles(tiles: readonly WorkgroupTile[], p: ProductShape): WorkgroupTile[] {
  const cost = tiles.map((t) => tileCost(t, p));
  const covers = (i: number, j: number) => tileThreads(tiles[i]!) <= tileThreads(tiles[j]!) && tileBytes(tiles[i]!) <= tileBytes(tiles[j]!) && cost[i]! <= cost[j]!;
  return tiles.filter((_, j) => !tiles.some((_, i) => i !== j && covers(i, j) && (i < j || !covers(j, i))));
}
