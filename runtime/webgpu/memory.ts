// The static memory plan of a WebGPU program for one set of sizes: which
// buffer each value lives in. Inputs, parameters and outputs get buffers of
// their own for the whole run; an intermediate value takes a buffer from its
// first write to its last read, and a buffer no longer needed is reused (best
// fit) by a later value. Pure: `dlc inspect` reports it without a device.

import { evalShape, type DimEnv } from "../program/dim.js";
import type { GpuProgram } from "../program/gpu.js";

export interface MemoryPlan {
  readonly shapes: readonly (readonly number[])[];
  /** Size in bytes of each buffer. */
  readonly slots: readonly number[];
  /** The buffer of each node that has one (views resolved to what they view). */
  readonly slotOf: ReadonlyMap<number, number>;
  /** Bytes of all buffers the plan allocates (the caller's external ones excluded). */
  readonly peakBytes: number;
  /** Bytes without reuse: every value in a buffer of its own. */
  readonly unplannedBytes: number;
}

export const bytesOf = (shape: readonly number[]) => Math.max(4, shape.reduce((a, b) => a * b, 1) * 4);

/** The node whose buffer holds each node's value (itself, or what it is a view of). */
export function bufferNodes(program: GpuProgram): Map<number, number> {
  const base = new Map<number, number>();
  for (const b of program.buffers) base.set(b, b);
  for (const v of program.views) base.set(v.node, v.of);
  return base;
}

export function planMemory(program: GpuProgram, env: DimEnv, external: ReadonlySet<number> = new Set()): MemoryPlan {
  const g = program.graph;
  const base = bufferNodes(program);
  const shapes = g.nodes.map((n) => evalShape(n.shape, env));
  const size = (node: number) => bytesOf(shapes[node]!);
  const pinned = new Set<number>([...g.inputs, ...g.outputs].map((b) => base.get(b.node)!));
  g.nodes.forEach((n, i) => {
    if (n.op === "param") pinned.add(i);
  });

  const first = new Map<number, number>();
  const last = new Map<number, number>();
  program.kernels.forEach((k, t) => {
    for (const b of k.bindings) {
      const node = base.get(b.node)!;
      if (!first.has(node)) first.set(node, t);
      last.set(node, t);
    }
  });

  const slots: number[] = [];
  const slotOf = new Map<number, number>();
  const fresh = (bytes: number) => slots.push(bytes) - 1;
  let unplanned = 0;
  for (const node of program.buffers) {
    if (external.has(node)) continue;
    unplanned += size(node);
    if (pinned.has(node) || !first.has(node)) slotOf.set(node, fresh(size(node)));
  }
  const intermediates = [...first.keys()].filter((n) => !slotOf.has(n) && !external.has(n)).sort((a, b) => first.get(a)! - first.get(b)!);
  const free: number[] = [];
  let next = 0;
  for (let t = 0; t < program.kernels.length; t++) {
    while (next < intermediates.length && first.get(intermediates[next]!) === t) {
      const n = intermediates[next++]!;
      const need = size(n);
      // Best fit among the free buffers.
      let best = -1;
      for (let j = 0; j < free.length; j++) if (slots[free[j]!]! >= need && (best < 0 || slots[free[j]!]! < slots[free[best]!]!)) best = j;
      slotOf.set(n, best >= 0 ? free.splice(best, 1)[0]! : fresh(need));
    }
    for (const n of intermediates) if (last.get(n) === t && slotOf.has(n)) free.push(slotOf.get(n)!);
  }
  return { shapes, slots, slotOf, peakBytes: slots.reduce((a, b) => a + b, 0), unplannedBytes: unplanned };
}
