// The WebAssembly pooling kernels (runtime/cpu/wasm/pool.ts) against the
// JavaScript kernels (runtime/cpu/kernels/pool.ts) on Float64Array copies of
// the same float32 inputs. A max is exactly its winning cell, so maxPool2d
// must match bit for bit (-0 against +0 and NaN included); so must
// maxPool2dGrad, against the JavaScript kernel on Float32Array copies (the
// same float32 additions in the same order), and against float64 where
// windows do not overlap (nothing is summed). The averages must be within
// 1e-6 of the average of |x| (or of |dy| shares), the scale of float32
// rounding in their sums.
//
// Shapes: odd sizes; C = 1, 3, 4, 5, 6, 32, 64 and 72 (past the unrolled
// channel vectors); size 2, 3, 2x3, 5x5 and 9x10 (looped windows); stride 1,
// 2, 3 (cells in no window); no, symmetric, one-sided and huge padding (a
// clip per position), and windows wholly in the padding. Inputs (x and dy
// alike): random, small integers with -0 (ties), a constant x (random dy),
// and random with NaN and -Infinity. Slots are adjacent in one memory with garbage (NaN) in their
// padding and outputs prefilled with NaN; a kernel must write every element
// of its output and no byte outside its output's slot.

import test from "ava";
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from "../../../../runtime/cpu/kernels/pool.js";
import type { Kernel } from "../../../../runtime/cpu/kernels/types.js";
import { size, type FloatArray } from "../../../../runtime/cpu/ndarray.js";
import { compileKernels, slotBytes, type Slot } from "../../../../runtime/cpu/wasm/kernel.js";
import { WASM_POOL } from "../../../../runtime/cpu/wasm/pool.js";
import type { Pads, Pair, WindowAttrs } from "../../../../runtime/program/ops.js";
import { Random } from "../../../../runtime/random.js";
import { PAGE_BYTES, requireWasm } from "../../../../runtime/wasm/api.js";

interface Case {
  readonly x: readonly [number, number, number, number];
  readonly size: Pair;
  readonly stride: Pair;
  readonly pad: Pads;
}

const CASES: readonly Case[] = [
  { x: [2, 7, 9, 1], size: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] },
  { x: [1, 8, 8, 4], size: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] },
  { x: [2, 6, 6, 3], size: [3, 3], stride: [1, 1], pad: [1, 1, 1, 1] },
  { x: [1, 7, 5, 5], size: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
  { x: [2, 5, 6, 32], size: [2, 3], stride: [1, 2], pad: [0, 1, 1, 0] },
  { x: [1, 9, 7, 64], size: [3, 3], stride: [2, 2], pad: [1, 0, 0, 1] },
  { x: [2, 6, 6, 6], size: [2, 2], stride: [2, 2], pad: [1, 1, 1, 1] },
  { x: [1, 4, 5, 72], size: [2, 2], stride: [1, 1], pad: [0, 0, 0, 0] },
  { x: [1, 6, 5, 6], size: [5, 5], stride: [1, 1], pad: [2, 2, 2, 2] },
  { x: [1, 9, 10, 3], size: [9, 10], stride: [1, 1], pad: [4, 4, 5, 4] },
  { x: [2, 5, 7, 4], size: [2, 2], stride: [3, 3], pad: [0, 1, 1, 0] },
  { x: [1, 3, 3, 5], size: [3, 3], stride: [1, 1], pad: [2, 2, 2, 2] },
  { x: [1, 2, 3, 3], size: [2, 2], stride: [1, 1], pad: [2, 0, 0, 2] },
];

const OPS = ["maxPool2d", "maxPool2dGrad", "avgPool2d", "avgPool2dGrad"] as const;
type PoolOp = (typeof OPS)[number];
const JS: { readonly [O in PoolOp]: Kernel<O> } = { maxPool2d, maxPool2dGrad, avgPool2d, avgPool2dGrad };

const DATA = ["random", "ties", "constant", "nan"] as const;
type DataKind = (typeof DATA)[number];

function outShape(k: Case): number[] {
  const [n, h, w, c] = k.x;
  const [pt, pb, pl, pr] = k.pad;
  return [n, Math.floor((h + pt + pb - k.size[0]) / k.stride[0]) + 1, Math.floor((w + pl + pr - k.size[1]) / k.stride[1]) + 1, c];
}

function fill(kind: DataKind, n: number, r: Random): Float32Array {
  const ties = [-1, -0, 0, 1, 1];
  return Float32Array.from({ length: n }, () => {
    const u = r.uniform();
    if (kind === "ties") return ties[Math.floor(u * ties.length)]!;
    if (kind === "constant") return 0.5;
    if (kind === "nan" && u < 0.1) return NaN;
    if (kind === "nan" && u < 0.15) return -Infinity;
    return 2 * r.uniform() - 1;
  });
}

const attrsOf = (k: Case): WindowAttrs & { inputSize: Pair } => ({ size: k.size, stride: k.stride, pad: k.pad, inputSize: [k.x[1], k.x[2]] });
const disjoint = (k: Case): boolean => k.stride[0] >= k.size[0] && k.stride[1] >= k.size[1];

/** The case's slots, adjacent from byte 64 in this order (outputs between inputs), and the first byte past them. */
function layout(k: Case): { slots: Record<"x" | "yMax" | "dy" | "dxMax" | "yAvg" | "dxAvg", Slot>; end: number } {
  const shapes = { x: k.x, yMax: outShape(k), dy: outShape(k), dxMax: k.x, yAvg: outShape(k), dxAvg: k.x };
  let at = 64;
  const slots = {} as Record<keyof typeof shapes, Slot>;
  for (const [name, shape] of Object.entries(shapes) as [keyof typeof shapes, readonly number[]][]) {
    slots[name] = { at, shape, dtype: "f32" };
    at += slotBytes(size(shape));
  }
  return { slots, end: at };
}

/** The JavaScript kernel's output on copies of the inputs in `Array` (Float64Array or Float32Array). */
function reference(op: PoolOp, k: Case, ins: readonly Float32Array[], Array: typeof Float64Array | typeof Float32Array, out: readonly number[]): FloatArray {
  const shapes = op === "maxPool2dGrad" ? [k.x, outShape(k)] : op === "avgPool2dGrad" ? [outShape(k)] : [k.x];
  const data = new Array(size(out));
  (JS[op] as Kernel<PoolOp>)({ shape: out, data }, ins.map((d, i) => ({ shape: shapes[i]!, data: Array.from(d) })), attrsOf(k) as never, {});
  return data;
}

for (const [ci, k] of CASES.entries()) {
  const name = `x [${k.x}] size ${k.size} stride ${k.stride} pad ${k.pad}`;
  const { slots, end } = layout(k);
  const memory = new (requireWasm().Memory)({ initial: Math.ceil((end + 64) / PAGE_BYTES) });
  const bytes = new Uint8Array(memory.buffer, 0, end + 64);
  const f32 = new Float32Array(memory.buffer);
  const io: { readonly [O in PoolOp]: { out: Slot; ins: Slot[] } } = {
    maxPool2d: { out: slots.yMax, ins: [slots.x] },
    maxPool2dGrad: { out: slots.dxMax, ins: [slots.x, slots.dy] },
    avgPool2d: { out: slots.yAvg, ins: [slots.x] },
    avgPool2dGrad: { out: slots.dxAvg, ins: [slots.dy] },
  };
  const kernels = compileKernels(
    memory,
    OPS.map((op) => ({ name: op, emit: (f) => (WASM_POOL[op] as (typeof WASM_POOL)["maxPool2d"])(f, io[op].out, io[op].ins, attrsOf(k), 0) })),
  );

  for (const kind of DATA) {
    test(`${name}, ${kind} inputs`, (t) => {
      const r = new Random(1000 * ci + DATA.indexOf(kind));
      const x = fill(kind, size(k.x), r);
      const dy = fill(kind === "constant" ? "random" : kind, size(outShape(k)), r);
      f32.fill(NaN, 0, (end + 64) >> 2);
      f32.set(x, slots.x.at >> 2);
      f32.set(dy, slots.dy.at >> 2);
      for (const op of OPS) {
        const { out, ins } = io[op];
        const before = bytes.slice();
        kernels.entries.get(op)!();
        const owned = [out.at, out.at + slotBytes(size(out.shape))];
        const stray = bytes.findIndex((v, i) => v !== before[i] && (i < owned[0]! || i >= owned[1]!));
        if (stray >= 0) return t.fail(`${op} wrote byte ${stray}, outside its slot [${owned}]`);
        const got = f32.subarray(out.at >> 2, (out.at >> 2) + size(out.shape));
        const inputs = ins.map((s) => (s === slots.x ? x : dy));
        const f64 = reference(op, k, inputs, Float64Array, out.shape);
        if (op.startsWith("max")) {
          const exact = op === "maxPool2d" || disjoint(k) ? f64 : reference(op, k, inputs, Float32Array, out.shape);
          const i = got.findIndex((v, i) => !Object.is(v, exact[i]));
          if (i >= 0) return t.fail(`${op}: element ${i} is ${got[i]}, expected ${exact[i]}`);
        } else {
          const magnitude = reference(op, k, inputs.map((d) => d.map(Math.abs)), Float64Array, out.shape);
          const i = got.findIndex((v, i) => !(Object.is(v, f64[i]) || Math.abs(v - f64[i]!) <= 1e-6 * magnitude[i]!));
          if (i >= 0) return t.fail(`${op}: element ${i} is ${got[i]}, expected ${f64[i]} (within ${1e-6 * magnitude[i]!})`);
        }
      }
      t.pass();
    });
  }
}
