// The CPU kernels for gather, scatterAdd and cumsum against values computed
// by hand: repeated indices, out-of-range indices (clamped to [0, n - 1]),
// middle axes, all four cumsum modes. Outputs start as NaN, so an element a
// kernel forgets to write fails.

import test from "ava";
import { GATHER_KERNELS } from "../../../runtime/cpu/kernels/gather.js";
import { SCAN_KERNELS } from "../../../runtime/cpu/kernels/scan.js";
import type { Kernel } from "../../../runtime/cpu/kernels/types.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";

const gather = GATHER_KERNELS.gather as Kernel<"gather">;
const scatterAdd = GATHER_KERNELS.scatterAdd as Kernel<"scatterAdd">;
const cumsum = SCAN_KERNELS.cumsum as Kernel<"cumsum">;

const f = (shape: number[], values: number[]): NDArray => ({ shape, data: Float64Array.from(values) });
const i = (shape: number[], values: number[]): NDArray => ({ shape, data: Int32Array.from(values) });
const out = (shape: number[]): NDArray => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) });

test("gather rows of a table, repeated and out of range (clamped)", (t) => {
  // Rows 0..3 of a [4, 2] table hold (10r, 10r + 1).
  const table = f([4, 2], [0, 1, 10, 11, 20, 21, 30, 31]);
  const y = out([2, 3, 2]);
  gather(y, [table, i([2, 3], [2, 2, -1, 7, 0, 3])], { axis: 0 }, {});
  t.deepEqual([...y.data], [20, 21, 20, 21, 0, 1, 30, 31, 0, 1, 30, 31]);
});

test("gather along a middle axis", (t) => {
  // x[a, b, c] = 100a + 10b + c, shape [2, 3, 2]; pick b = 2, 0, 2.
  const x = f([2, 3, 2], [0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121]);
  const y = out([2, 3, 2]);
  gather(y, [x, i([3], [2, 0, 2])], { axis: 1 }, {});
  t.deepEqual([...y.data], [20, 21, 0, 1, 20, 21, 120, 121, 100, 101, 120, 121]);
});

test("gather with a scalar index drops the axis", (t) => {
  const x = f([2, 3], [1, 2, 3, 4, 5, 6]);
  const y = out([2]);
  gather(y, [x, i([], [1])], { axis: 1 }, {});
  t.deepEqual([...y.data], [2, 5]);
});

test("scatterAdd sums repeated indices and sends out-of-range ones to the clamped row", (t) => {
  // Updates for indices [1, 1, -5, 1, 9]: row 1 gets 1 + 2 + 4, row 0 gets 3, row 2 (the last) gets 5.
  const u = f([5, 2], [1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
  const y = out([3, 2]);
  scatterAdd(y, [u, i([5], [1, 1, -5, 1, 9])], { axis: 0, size: 3 }, {});
  t.deepEqual([...y.data], [3, 30, 7, 70, 5, 50]);
});

test("scatterAdd along a middle axis, rows no index names stay zero", (t) => {
  // u: [2 (outer), 3 (indices), 1 (inner)], indices [0, 0, 2] into 4 rows.
  const u = f([2, 3, 1], [1, 2, 3, 4, 5, 6]);
  const y = out([2, 4, 1]);
  scatterAdd(y, [u, i([3], [0, 0, 2])], { axis: 1, size: 4 }, {});
  t.deepEqual([...y.data], [3, 0, 3, 0, 9, 0, 6, 0]);
});

test("scatterAdd in float32 accumulates in float64", (t) => {
  const n = 1000;
  const u: NDArray = { shape: [n], data: new Float32Array(n).fill(0.1) };
  const y: NDArray = { shape: [1], data: new Float32Array(1) };
  scatterAdd(y, [u, i([n], new Array(n).fill(0))], { axis: 0, size: 1 }, {});
  t.is(y.data[0], Math.fround(n * Math.fround(0.1)));
});

test("cumsum in its four modes, along each axis", (t) => {
  const x = f([2, 3], [1, 2, 3, 4, 5, 6]);
  const run = (axis: number, exclusive: boolean, reverse: boolean) => {
    const y = out([2, 3]);
    cumsum(y, [x], { axis, exclusive, reverse }, {});
    return [...y.data];
  };
  t.deepEqual(run(1, false, false), [1, 3, 6, 4, 9, 15]);
  t.deepEqual(run(1, true, false), [0, 1, 3, 0, 4, 9]);
  t.deepEqual(run(1, false, true), [6, 5, 3, 15, 11, 6]);
  t.deepEqual(run(1, true, true), [5, 3, 0, 11, 6, 0]);
  t.deepEqual(run(0, false, false), [1, 2, 3, 5, 7, 9]);
  t.deepEqual(run(0, true, true), [4, 5, 6, 0, 0, 0]);
});

test("cumsum of integers stays integer", (t) => {
  const y: NDArray = { shape: [4], data: new Int32Array(4) };
  cumsum(y, [i([4], [1, -2, 3, 7])], { axis: 0, exclusive: false, reverse: false }, {});
  t.deepEqual([...y.data], [1, -1, 2, 9]);
});
