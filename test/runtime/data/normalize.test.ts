import test from "ava";
import { loadDataset } from "../../../runtime/data/load.js";
import { applyNormalization, fitNormalization, normalizedInput } from "../../../runtime/data/normalize.js";
import { DataError, type Dataset, type InputSpec } from "../../../runtime/data/types.js";
import { fromRoot } from "../../helpers/paths.js";

const f32 = (name: string, ...row: number[]): InputSpec => ({ name, dtype: "f32", shape: ["batch", ...row] });
const i32 = (name: string, classes: number): InputSpec => ({ name, dtype: "i32", shape: ["batch"], classes });

const iris = () => loadDataset(fromRoot("data/iris.csv"), [f32("features", 4), i32("species", 3)]);
const diabetes = () => loadDataset(fromRoot("data/diabetes.csv"), [f32("x", 10), f32("target")]);

/** A hand-built data set: columns are [1, 2, 3, 4], [10, 10, 10, 10] and [-1, 0, 1, 8]. */
function small(): Dataset {
  const x = new Float32Array([1, 10, -1, 2, 10, 0, 3, 10, 1, 4, 10, 8]);
  const y = new Int32Array([0, 1, 0, 1]);
  return {
    file: "small.csv",
    rows: 4,
    header: ["a", "b", "c", "y"],
    features: "x",
    inputs: new Map([
      ["x", { dtype: "f32", width: 3, rowShape: [3], data: x }],
      ["y", { dtype: "i32", width: 1, rowShape: [], data: y }],
    ]),
  };
}

/** Column `c` of a row-major matrix, over `rows`, in float64. */
function column(data: Float32Array | Int32Array, width: number, c: number, rows: Iterable<number>): number[] {
  return [...rows].map((r) => data[r * width + c]!);
}

test("standard statistics are the float64 mean and population std of each column over the given rows", async (t) => {
  const ds = await iris();
  const rows = Uint32Array.from({ length: 75 }, (_, i) => 2 * i); // every other row
  const stats = fitNormalization("standard", ds, "features", rows);
  const x = ds.inputs.get("features")!.data;
  for (let c = 0; c < 4; c++) {
    const v = column(x, 4, c, rows);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    t.is(stats.shift[c], Math.fround(mean));
    t.is(stats.scale[c], Math.fround(1 / std));
  }
});

test("minmax statistics map each column's training range to [0, 1]", (t) => {
  const stats = fitNormalization("minmax", small(), "x");
  t.deepEqual([...stats.shift], [1, 10, -1]);
  t.deepEqual([...stats.scale], [1 / 3, 1, 1 / 9].map(Math.fround));
  const out = applyNormalization(stats, small()).inputs.get("x")!.data;
  t.deepEqual([...out.filter((_, i) => i % 3 === 0)], [0, 1 / 3, 2 / 3, 1].map(Math.fround));
});

test("a constant column gets scale 1 and becomes zeros, never a division by zero", (t) => {
  for (const kind of ["standard", "minmax"] as const) {
    const stats = fitNormalization(kind, small(), "x");
    t.is(stats.shift[1], 10, kind);
    t.is(stats.scale[1], 1, kind);
    const out = applyNormalization(stats, small()).inputs.get("x")!.data;
    t.deepEqual([1, 4, 7, 10].map((i) => out[i]), [0, 0, 0, 0], kind);
  }
});

test("standardized training columns have mean 0 and std 1", async (t) => {
  const ds = await iris();
  const out = applyNormalization(fitNormalization("standard", ds, "features"), ds).inputs.get("features")!.data;
  for (let c = 0; c < 4; c++) {
    const v = column(out, 4, c, Array.from({ length: 150 }, (_, i) => i));
    const mean = v.reduce((a, b) => a + b, 0) / 150;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 150);
    t.true(Math.abs(mean) < 1e-6, `mean ${mean}`);
    t.true(Math.abs(std - 1) < 1e-6, `std ${std}`);
  }
});

test("statistics fitted on a subset are applied to every row", (t) => {
  const stats = fitNormalization("minmax", small(), "x", Uint32Array.of(0, 1));
  t.deepEqual([...stats.shift], [1, 10, -1]);
  const out = applyNormalization(stats, small()).inputs.get("x")!.data;
  t.is(out[9], 3, "row 3, column a: (4 - 1) * 1, outside the training range");
});

test("applying statistics returns a new data set and leaves the original and the other inputs alone", (t) => {
  const ds = small();
  const before = [...ds.inputs.get("x")!.data];
  const out = applyNormalization(fitNormalization("standard", ds, "x"), ds);
  t.not(out, ds);
  t.deepEqual([...ds.inputs.get("x")!.data], before);
  t.is(out.inputs.get("y"), ds.inputs.get("y"));
  t.is(out.rows, ds.rows);
});

test("none is the identity", (t) => {
  const ds = small();
  const stats = fitNormalization("none", ds, "x");
  t.deepEqual([...stats.shift], [0, 0, 0]);
  t.deepEqual([...stats.scale], [1, 1, 1]);
  t.is(applyNormalization(stats, ds), ds);
});

test("only the features input is normalized, never a target bound by name", async (t) => {
  t.is(normalizedInput(await diabetes()), "x");
  t.is(normalizedInput(await iris()), "features");
  const byName = await loadDataset(fromRoot("data/diabetes.csv"), [f32("target")], {
    ignore: ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
  });
  t.is(normalizedInput(byName), undefined);
});

test("an i32 input cannot be normalized", (t) => {
  t.throws(() => fitNormalization("standard", small(), "y"), { instanceOf: DataError, message: "small.csv: input 'y' is i32; expected f32 to normalize" });
});

test("statistics of another width are refused", (t) => {
  const stats = { ...fitNormalization("standard", small(), "x"), shift: new Float32Array(2), scale: new Float32Array(2) };
  t.throws(() => applyNormalization(stats, small()), {
    instanceOf: DataError,
    message: "small.csv: the standard statistics of 'x' have 2 columns; expected 3, the width of 'x'",
  });
});

test("fitting on no rows or on rows out of range is an error", (t) => {
  t.throws(() => fitNormalization("standard", small(), "x", new Uint32Array(0)), {
    instanceOf: DataError,
    message: "small.csv: no rows to fit the standard normalization of 'x'; expected at least one",
  });
  t.throws(() => fitNormalization("standard", small(), "x", Uint32Array.of(4)), {
    instanceOf: DataError,
    message: "small.csv: row index 4 is out of range; expected indices below 4",
  });
});
