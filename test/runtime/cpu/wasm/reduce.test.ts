// The WebAssembly sum, max and argmax (runtime/cpu/wasm/reduce.ts) against the
// JS kernels (runtime/cpu/kernels/reduce.ts) run in Float64Array: every axis
// set of shapes of rank 1-4 over sizes 1, 3, 4, 5, 7, 17, 64, 100, f32 and
// i32 inputs, and the large [128·14·14, 32] over axis 0 and [4096, 1024] over
// axis 1. f32 sums are within SUM_TOL · Σ|x| of the float64 sums (a 100k-term
// sum as well); i32 sums, max and argmax are exact, with NaN and -∞ in the
// inputs. The input slot ends at the end of the memory, so a read past its
// padding traps; the output starts as NaN and the bytes after its slot must
// stay untouched.

import test, { type ExecutionContext } from "ava";
import { REDUCE_KERNELS } from "../../../../runtime/cpu/kernels/reduce.js";
import type { Kernel } from "../../../../runtime/cpu/kernels/types.js";
import { compileKernels, slotBytes, type Slot } from "../../../../runtime/cpu/wasm/kernel.js";
import { canonicalRuns, WASM_REDUCE } from "../../../../runtime/cpu/wasm/reduce.js";
import type { OpAttrs } from "../../../../runtime/program/ops.js";
import { PAGE_BYTES, requireWasm } from "../../../../runtime/wasm/api.js";
import { Random } from "../../../../runtime/random.js";

/** The worst measured was 3.9e-7, columns of 100k terms on [0, 1) (the 100k-term test logs each). */
const SUM_TOL = 1e-6;
const GUARD = 64;
const SENTINEL = 0x5a5a5a5a;

type Op = "sum" | "max" | "argmax";
type Case = { readonly op: Op; readonly attrs: OpAttrs[Op] };
type Dtype = "f32" | "i32";

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function outShape(shape: readonly number[], c: Case): number[] {
  const axes = c.op === "argmax" ? [(c.attrs as OpAttrs["argmax"]).axis] : (c.attrs as OpAttrs["sum"]).axes;
  return shape.filter((_, i) => !axes.includes(i));
}

function describe(shape: readonly number[], dtype: Dtype, c: Case): string {
  const what = c.op === "argmax" ? `axis ${(c.attrs as OpAttrs["argmax"]).axis}` : `axes [${(c.attrs as OpAttrs["sum"]).axes.join(",")}]`;
  return `${c.op} ${dtype} [${shape.join(", ")}] over ${what}`;
}

/** The JS kernel of `c` on `data` as float64 (and Σ|x| per output for sums). */
function reference(shape: readonly number[], data: ArrayLike<number>, c: Case): { value: Float64Array; magnitude: Float64Array } {
  const kernel = REDUCE_KERNELS[c.op] as Kernel<Op>;
  const run = (values: Float64Array): Float64Array => {
    const out = { shape: outShape(shape, c), data: new Float64Array(size(outShape(shape, c))) };
    kernel(out, [{ shape, data: values }], c.attrs, {});
    return out.data;
  };
  const x = Float64Array.from(data);
  return { value: run(x), magnitude: c.op === "sum" ? run(x.map(Math.abs)) : new Float64Array(0) };
}

/**
 * Compiles every case over one input in one module and checks each: the output
 * region starts as NaN, the input is left as it was, the guard after the output
 * slot is untouched. Returns the worst |error| / Σ|x| of the f32 sums.
 */
function check(t: ExecutionContext, shape: readonly number[], dtype: Dtype, data: Float32Array | Int32Array, cases: readonly Case[]): number {
  const api = requireWasm();
  const n = size(shape);
  const outBytes = slotBytes(n) + GUARD;
  const pages = Math.ceil((16 + outBytes + slotBytes(n)) / PAGE_BYTES);
  const memory = new api.Memory({ initial: pages });
  const xAt = pages * PAGE_BYTES - slotBytes(n);
  const x: Slot = { at: xAt, shape, dtype };
  const outs = cases.map((c): Slot => ({ at: 16, shape: outShape(shape, c), dtype: c.op === "argmax" ? "i32" : dtype }));
  const kernels = compileKernels(
    memory,
    cases.map((c, i) => ({ name: `k${i}`, emit: (f) => (WASM_REDUCE[c.op] as (...a: unknown[]) => void)(f, outs[i], [x], c.attrs) })),
  );
  const view = dtype === "f32" ? new Float32Array(memory.buffer, xAt, n) : new Int32Array(memory.buffer, xAt, n);
  view.set(data);
  let worst = 0;
  cases.forEach((c, i) => {
    const what = describe(shape, dtype, c);
    const out = outs[i]!;
    const o = size(out.shape);
    new Float32Array(memory.buffer, 16, slotBytes(o) / 4).fill(NaN);
    new Int32Array(memory.buffer, 16 + slotBytes(o), GUARD / 4).fill(SENTINEL);
    kernels.entries.get(`k${i}`)!();
    const got = out.dtype === "f32" ? new Float32Array(memory.buffer, 16, o) : new Int32Array(memory.buffer, 16, o);
    const { value, magnitude } = reference(shape, data, c);
    let bad = -1;
    for (let j = 0; j < o && bad < 0; j++) {
      if (c.op === "sum" && dtype === "f32") {
        const err = Math.abs(got[j]! - value[j]!);
        if (!(err <= SUM_TOL * magnitude[j]!)) bad = j;
        else if (magnitude[j]! > 0) worst = Math.max(worst, err / magnitude[j]!);
      } else if (!Object.is(got[j], dtype === "f32" || c.op === "argmax" ? Math.fround(value[j]!) : value[j]! | 0)) bad = j;
    }
    if (bad >= 0) t.fail(`${what}: element ${bad} is ${got[bad]}, expected ${value[bad]}`);
    const guard = new Int32Array(memory.buffer, 16 + slotBytes(o), GUARD / 4);
    if (guard.some((v) => v !== SENTINEL)) t.fail(`${what}: wrote past its output slot`);
  });
  t.true(view.every((v, j) => Object.is(v, data[j])), "the input is unchanged");
  return worst;
}

function randomData(r: Random, n: number, dtype: Dtype, lo = -1, hi = 1): Float32Array | Int32Array {
  if (dtype === "i32") return Int32Array.from({ length: n }, () => Math.floor(r.uniform() * 2001) - 1000);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r.uniform());
}

/** Every axis set, for sum and max, and every axis for argmax. */
function allCases(rank: number): Case[] {
  const cases: Case[] = [];
  for (let mask = 0; mask < 1 << rank; mask++) {
    const axes = [...Array(rank).keys()].filter((a) => mask & (1 << a));
    cases.push({ op: "sum", attrs: { axes } }, { op: "max", attrs: { axes } });
  }
  for (let axis = 0; axis < rank; axis++) cases.push({ op: "argmax", attrs: { axis } });
  return cases;
}

const SIZES = [1, 3, 4, 5, 7, 17, 64, 100];

/** Fixed shapes that hit each kernel's edges, and random ones of at most 300k elements. */
function shapes(): number[][] {
  const fixed = [[1], [3], [4], [5], [7], [17], [64], [100], [3, 5], [4, 4], [5, 3], [7, 17], [17, 7], [100, 64], [64, 100], [1, 5, 1], [3, 1, 4], [5, 7, 3], [3, 7, 5], [4, 17, 4], [17, 1, 17], [2, 3, 4, 5], [5, 4, 3, 2], [7, 5, 7, 5], [3, 64, 3, 17], [1, 1, 1, 1], [100, 3, 1, 7]];
  const r = new Random(7);
  const random: number[][] = [];
  while (random.length < 40) {
    const rank = 1 + Math.floor(r.uniform() * 4);
    const shape = Array.from({ length: rank }, () => SIZES[Math.floor(r.uniform() * SIZES.length)]!);
    if (size(shape) <= 300_000) random.push(shape);
  }
  return [...fixed, ...random];
}

test("canonical runs: size-1 axes dropped, adjacent reduced or kept axes merged", (t) => {
  t.deepEqual(canonicalRuns([2, 3, 4, 5], [1, 2]), [{ size: 2, reduced: false }, { size: 12, reduced: true }, { size: 5, reduced: false }]);
  t.deepEqual(canonicalRuns([2, 1, 4, 5], [0, 2]), [{ size: 8, reduced: true }, { size: 5, reduced: false }]);
  t.deepEqual(canonicalRuns([1, 1], [0]), []);
  t.deepEqual(canonicalRuns([3, 4, 5, 6], [0, 2]), [{ size: 3, reduced: true }, { size: 4, reduced: false }, { size: 5, reduced: true }, { size: 6, reduced: false }]);
});

for (const dtype of ["f32", "i32"] as const) {
  test(`${dtype}: every axis set of rank 1-4 shapes matches the JS kernels`, (t) => {
    const r = new Random(dtype === "f32" ? 1 : 2);
    for (const shape of shapes()) check(t, shape, dtype, randomData(r, size(shape), dtype), allCases(shape.length));
    t.pass();
  });
}

test("large: [128·14·14, 32] over axis 0 and [4096, 1024] over axis 1", (t) => {
  const r = new Random(3);
  const bn = [128 * 14 * 14, 32];
  const rows = [4096, 1024];
  const worst = Math.max(
    check(t, bn, "f32", randomData(r, size(bn), "f32"), [{ op: "sum", attrs: { axes: [0] } }, { op: "max", attrs: { axes: [0] } }, { op: "argmax", attrs: { axis: 0 } }]),
    check(t, rows, "f32", randomData(r, size(rows), "f32"), [{ op: "sum", attrs: { axes: [1] } }, { op: "max", attrs: { axes: [1] } }, { op: "argmax", attrs: { axis: 1 } }, { op: "sum", attrs: { axes: [0, 1] } }]),
  );
  t.log(`worst sum error / Σ|x|: ${worst.toExponential(2)}`);
});

test("a 100k-term f32 sum is within 1e-6 of the float64 sum, on rows, columns and the scalar path", (t) => {
  const r = new Random(4);
  for (const [shape, axes] of [
    [[100_000], [0]],
    [[100_003, 8], [0]],
    [[100_000, 3], [0]],
    [[3, 100_001], [1]],
  ] as const) {
    for (const [lo, hi] of [[0, 1], [-1, 1]]) {
      const worst = check(t, shape, "f32", randomData(r, size(shape), "f32", lo, hi), [{ op: "sum", attrs: { axes } }]);
      t.log(`[${shape.join(", ")}] over [${axes.join(",")}], uniform on [${lo}, ${hi}): worst |error| / Σ|x| = ${worst.toExponential(2)}`);
    }
  }
  t.pass();
});

test("max and argmax with NaN and -∞: NaN propagates through max, argmax skips NaN unless it is first", (t) => {
  const r = new Random(5);
  for (const shape of [[3], [4], [7], [17], [64, 5], [5, 64], [9, 17, 6], [6, 3, 2], [2, 100, 3]]) {
    const n = size(shape);
    const variants: Float32Array[] = [];
    const base = randomData(r, n, "f32") as Float32Array;
    const sprinkle = (p: number, v: number): Float32Array => base.map((x) => (r.uniform() < p ? v : x));
    variants.push(sprinkle(0.05, NaN), sprinkle(0.3, -Infinity), sprinkle(0.5, NaN), new Float32Array(n).fill(-Infinity), new Float32Array(n).fill(NaN));
    // NaN or -∞ at the first element of every row of the last axis; equal maxima.
    const first = (v: number): Float32Array => base.map((x, i) => (i % shape[shape.length - 1]! === 0 ? v : x));
    variants.push(first(NaN), first(-Infinity), base.map((x) => Math.round(x * 2)).map((x) => x || 1));
    for (const data of variants) {
      const rank = shape.length;
      const cases = allCases(rank).filter((c) => c.op !== "sum");
      check(t, shape, "f32", data, cases);
    }
  }
  t.pass();
});

test("empty and degenerate: an empty reduction gives 0 or -∞, nothing reduced is a copy", (t) => {
  const r = new Random(6);
  check(t, [3, 0], "f32", new Float32Array(0), [{ op: "sum", attrs: { axes: [1] } }, { op: "max", attrs: { axes: [1] } }]);
  check(t, [5, 1, 3], "f32", randomData(r, 15, "f32"), [{ op: "sum", attrs: { axes: [1] } }, { op: "max", attrs: { axes: [] } }, { op: "argmax", attrs: { axis: 1 } }]);
  t.pass();
});
