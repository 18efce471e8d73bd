import test from "ava";
import { batches, epochOrder, splitRows } from "../../../runtime/data/batches.js";
import { DataError, type Dataset } from "../../../runtime/data/types.js";

/** 10 rows: x row r is [r, 100 + r], y row r is r % 3. */
function tenRows(): Dataset {
  const x = new Float32Array(20);
  for (let r = 0; r < 10; r++) x.set([r, 100 + r], 2 * r);
  return {
    file: "ten.csv",
    rows: 10,
    header: ["a", "b", "y"],
    features: "x",
    inputs: new Map([
      ["x", { dtype: "f32", width: 2, rowShape: [2], data: x }],
      ["y", { dtype: "i32", width: 1, rowShape: [], data: Int32Array.from({ length: 10 }, (_, r) => r % 3) }],
    ]),
  };
}

const sorted = (a: Uint32Array) => [...a].sort((p, q) => p - q);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("a split gives round(rows * fraction) test rows and the rest to training, each row once", (t) => {
  const { train, test: held } = splitRows(150, 0.2, 7);
  t.is(held.length, 30);
  t.is(train.length, 120);
  t.deepEqual(sorted(Uint32Array.from([...train, ...held])), range(150));
  t.is(splitRows(10, 0.25, 7).test.length, 3, "2.5 rounds to 3");
});

test("both sides of a split are in ascending row order", (t) => {
  const { train, test: held } = splitRows(100, 0.3, 1);
  t.deepEqual([...train], sorted(train));
  t.deepEqual([...held], sorted(held));
});

test("a split is reproducible from its seed and differs between seeds", (t) => {
  t.deepEqual(splitRows(100, 0.3, 42), splitRows(100, 0.3, 42));
  t.notDeepEqual(splitRows(100, 0.3, 42).test, splitRows(100, 0.3, 43).test);
});

test("a split fraction outside (0, 1) is an error", (t) => {
  for (const fraction of [0, 1, -0.1, 1.5, Number.NaN]) {
    t.throws(() => splitRows(100, fraction, 0), { instanceOf: DataError, message: /^test fraction .* is out of range; expected a number between 0 and 1, exclusive$/ });
  }
});

test("a split that leaves one side empty is an error", (t) => {
  t.throws(() => splitRows(3, 0.1, 0), {
    instanceOf: DataError,
    message: "test fraction 0.1 of 3 rows leaves no test rows; expected both splits non-empty",
  });
  t.throws(() => splitRows(3, 0.9, 0), {
    instanceOf: DataError,
    message: "test fraction 0.9 of 3 rows leaves no training rows; expected both splits non-empty",
  });
});

test("an epoch order is a permutation of the given rows", (t) => {
  const rows = Uint32Array.of(3, 5, 8, 13, 21, 34);
  t.deepEqual(sorted(epochOrder(rows, 0, 0)), [...rows]);
});

test("epoch orders are reproducible from (seed, epoch) and differ between epochs and seeds", (t) => {
  const rows = Uint32Array.from(range(50));
  t.deepEqual(epochOrder(rows, 9, 3), epochOrder(rows, 9, 3));
  t.notDeepEqual(epochOrder(rows, 9, 0), epochOrder(rows, 9, 1));
  t.notDeepEqual(epochOrder(rows, 9, 0), epochOrder(rows, 10, 0));
  t.notDeepEqual([...epochOrder(rows, 9, 0)], range(50));
});

test("batches gather the rows in the given order into contiguous buffers per input", (t) => {
  const [first] = batches(tenRows(), Uint32Array.of(7, 2, 9), 3, false);
  t.is(first!.size, 3);
  t.deepEqual([...first!.inputs.get("x")!], [7, 107, 2, 102, 9, 109]);
  t.deepEqual([...first!.inputs.get("y")!], [1, 2, 0]);
  t.true(first!.inputs.get("y") instanceof Int32Array);
});

test("the last partial batch is yielded unless dropLast", (t) => {
  const order = Uint32Array.from(range(10));
  t.deepEqual([...batches(tenRows(), order, 4, false)].map((b) => b.size), [4, 4, 2]);
  t.deepEqual([...batches(tenRows(), order, 4, true)].map((b) => b.size), [4, 4]);
  t.deepEqual([...batches(tenRows(), order, 5, true)].map((b) => b.size), [5, 5]);
});

test("the partial last batch holds the trailing rows", (t) => {
  const last = [...batches(tenRows(), Uint32Array.from(range(10)), 4, false)].map((b) => [...b.inputs.get("y")!]).pop();
  t.deepEqual(last, [8 % 3, 9 % 3]);
});

test("batch buffers are reused: a batch is only valid until the next one is drawn", (t) => {
  const ds = tenRows();
  const it = batches(ds, Uint32Array.from(range(10)), 4, false);
  const first = it.next().value!;
  const x = first.inputs.get("x")!;
  const firstRow = x[0];
  const second = it.next().value!;
  t.is(second.inputs.get("x"), x);
  t.not(x[0], firstRow, "the first batch's buffer now holds the second batch");
  const [again] = batches(ds, Uint32Array.of(0, 1, 2, 3), 4, false);
  t.is(again!.inputs.get("x"), x, "later calls on the same data set reuse the same buffers");
});

test("an invalid batch size or row index is an error", (t) => {
  t.throws(() => [...batches(tenRows(), Uint32Array.of(0), 0, false)], { instanceOf: DataError, message: "batch size 0 is invalid; expected a positive integer" });
  t.throws(() => [...batches(tenRows(), Uint32Array.of(0, 10), 2, false)], {
    instanceOf: DataError,
    message: "ten.csv: row index 10 is out of range; expected indices below 10",
  });
});
