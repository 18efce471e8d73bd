import test from "ava";
import { bindColumns, rowLayout, type ColumnBinding } from "../../../runtime/data/columns.js";
import { DataError, type InputSpec } from "../../../runtime/data/types.js";

const f32 = (name: string, ...row: number[]): InputSpec => ({ name, dtype: "f32", shape: ["batch", ...row] });
const i32 = (name: string, classes?: number): InputSpec => ({ name, dtype: "i32", shape: ["batch"], ...(classes === undefined ? {} : { classes }) });

const FASHION = ["label", ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)];
const IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"];

/** input name -> the header names of its columns, in row order. */
function columnsOf(binding: ColumnBinding, header: readonly string[]): Record<string, string[]> {
  return Object.fromEntries(binding.inputs.map((b) => [b.spec.name, b.columns.map((j) => header[j]!)]));
}

test("the width of an input is the product of its shape after the batch dim", (t) => {
  t.deepEqual(rowLayout("f.csv", f32("pixels", 28, 28, 1)), { width: 784, rowShape: [28, 28, 1] });
  t.deepEqual(rowLayout("f.csv", i32("label")), { width: 1, rowShape: [] });
});

test("a symbolic dim after the batch dim is an error", (t) => {
  t.throws(() => rowLayout("f.csv", { name: "tokens", dtype: "i32", shape: ["batch", "seq"] }), {
    instanceOf: DataError,
    message: "f.csv: input 'tokens' has shape [batch, seq] with symbolic 'seq' after the batch dimension; expected only the first dimension to be symbolic",
  });
});

test("a scalar input has no batch dim to read rows into", (t) => {
  t.throws(() => rowLayout("f.csv", { name: "x", dtype: "f32", shape: [] }), {
    instanceOf: DataError,
    message: "f.csv: input 'x' is a scalar; expected a shape with a batch dimension first",
  });
});

test("an input named like a column takes it and the one remaining input takes the rest in file order", (t) => {
  const binding = bindColumns("iris.csv", 1, IRIS, [f32("features", 4), i32("species", 3)]);
  t.deepEqual(columnsOf(binding, IRIS), { features: IRIS.slice(0, 4), species: ["species"] });
  t.is(binding.features, "features");
  t.deepEqual([...binding.columnInput], [0, 0, 0, 0, 1]);
  t.deepEqual([...binding.columnOffset], [0, 1, 2, 3, 0]);
});

test("the label option binds a differently named column to the model's unmatched width-1 input", (t) => {
  const binding = bindColumns("iris.csv", 1, IRIS, [f32("x", 4), i32("y", 3)], { label: "species" });
  t.deepEqual(columnsOf(binding, IRIS), { x: IRIS.slice(0, 4), y: ["species"] });
  t.is(binding.inputs[1]!.how, "label");
});

test("the label prefers an i32 input over an f32 one when both are unmatched and width 1", (t) => {
  const header = ["a", "class"];
  const binding = bindColumns("f.csv", 1, header, [f32("x"), i32("y", 2)], { label: "class" });
  t.deepEqual(columnsOf(binding, header), { x: ["a"], y: ["class"] });
});

test("ignored columns are dropped before binding, as predict drops the label", (t) => {
  const binding = bindColumns("iris.csv", 1, IRIS, [f32("features", 4)], { ignore: ["species", "not_there"] });
  t.deepEqual(columnsOf(binding, IRIS), { features: IRIS.slice(0, 4) });
  t.is(binding.columnInput[4], -1);
});

test("a label that is not a column lists the header and suggests the closest name", (t) => {
  t.throws(() => bindColumns("iris.csv", 1, IRIS, [f32("x", 4), i32("y", 3)], { label: "specis" }), {
    instanceOf: DataError,
    message: "iris.csv:1: no column 'specis' for the label; the header has sepal_length, sepal_width, petal_length, petal_width, species; did you mean 'species'?",
  });
});

test("a label with two candidate i32 inputs is ambiguous", (t) => {
  t.throws(() => bindColumns("f.csv", 1, ["a", "b"], [f32("x"), i32("y", 2), i32("z", 2)], { label: "b" }), {
    instanceOf: DataError,
    message: "f.csv:1: label column 'b' could bind to input 'y' or 'z'; expected exactly one width-1 input not named after a column",
  });
});

test("a label with no width-1 input to bind to is an error", (t) => {
  t.throws(() => bindColumns("iris.csv", 1, IRIS, [f32("features", 4)], { label: "species" }), {
    instanceOf: DataError,
    message: "iris.csv:1: no input for label column 'species'; expected one width-1 input not named after a column (inputs: features [4] f32)",
  });
});

test("a column cannot be both the label and ignored", (t) => {
  t.throws(() => bindColumns("iris.csv", 1, IRIS, [f32("x", 4), i32("y", 3)], { label: "species", ignore: ["species"] }), {
    instanceOf: DataError,
    message: "iris.csv:1: column 'species' is both the label and ignored; expected one or the other",
  });
});

test("an input bound to a single column by name must have width 1", (t) => {
  t.throws(() => bindColumns("f.csv", 1, ["x", "y"], [f32("x", 3), i32("y")]), {
    instanceOf: DataError,
    message: "f.csv:1: input 'x' is bound to the single column 'x' but takes 3 values per row; expected a width-1 input",
  });
});

test("the remaining input's width must equal the count of remaining columns, which the error names", (t) => {
  t.throws(() => bindColumns("train.csv", 1, FASHION, [f32("pixels", 28, 28, 1)]), {
    instanceOf: DataError,
    message: "train.csv:1: 'pixels' expects 784 columns, 785 remain (label, pixel1, pixel2, ..., pixel784)",
  });
});

test("two inputs that match no column are an error suggesting --label", (t) => {
  t.throws(() => bindColumns("train.csv", 1, FASHION, [f32("images", 784), i32("y", 10)]), {
    instanceOf: DataError,
    message:
      "train.csv:1: inputs 'images' and 'y' match no column; expected all but one of them named after a column, or --label naming the label column (the header has label, pixel1, pixel2, ..., pixel784)",
  });
});

test("columns left over when every input is bound are an error", (t) => {
  t.throws(() => bindColumns("f.csv", 1, ["x", "y", "id"], [f32("x"), f32("y")]), {
    instanceOf: DataError,
    message: "f.csv:1: column id matches no input; expected every column bound to an input or ignored",
  });
});

test("a header of numbers is pointed out as a data row", (t) => {
  t.throws(() => bindColumns("f.csv", 1, ["5.1", "3.5", "0"], [f32("x", 2)]), {
    instanceOf: DataError,
    message: "f.csv:1: 'x' expects 2 columns, 3 remain (5.1, 3.5, 0); the first row looks like data, expected a header row of column names",
  });
});

test("a column bound by name must be unique in the header", (t) => {
  t.throws(() => bindColumns("f.csv", 2, ["y", "a", "y"], [f32("x"), i32("y")]), {
    instanceOf: DataError,
    message: "f.csv:2: column 'y' appears 2 times in the header (columns 1, 3); expected one column to bind input 'y'",
  });
});

// ---- feature columns by name (the columns a checkpoint was trained on)

test("recorded feature names bind the features by name, in the recorded order, wherever the columns are", (t) => {
  const header = ["species", "petal_width", "sepal_length", "petal_length", "sepal_width"];
  const binding = bindColumns("r.csv", 1, header, [f32("x", 4), i32("species", 3)], { features: IRIS.slice(0, 4) });
  t.deepEqual(columnsOf(binding, header), { x: IRIS.slice(0, 4), species: ["species"] });
  t.deepEqual(binding.featureColumns, IRIS.slice(0, 4));
  t.deepEqual(bindColumns("iris.csv", 1, IRIS, [f32("x", 4), i32("species", 3)]).featureColumns, IRIS.slice(0, 4), "recorded by position when no names are given");
});

test("a recorded feature column that is missing is named; a column left over is an error", (t) => {
  const specs = [f32("x", 4), i32("species", 3)];
  t.throws(() => bindColumns("m.csv", 1, ["sepal_length", "sepal_width", "petal_length", "species"], specs, { features: IRIS.slice(0, 4) }), {
    instanceOf: DataError,
    message: "m.csv:1: 'x' expects column 'petal_width', which the header lacks (it has sepal_length, sepal_width, petal_length, species)",
  });
  t.throws(() => bindColumns("e.csv", 1, [...IRIS, "id"], specs, { features: IRIS.slice(0, 4) }), {
    instanceOf: DataError,
    message: "e.csv:1: column id is not among the 4 feature columns 'x' was trained on; expected only those columns (and the label)",
  });
  t.throws(() => bindColumns("w.csv", 1, IRIS, specs, { features: IRIS.slice(0, 3) }), { message: /'x' takes 4 columns, but 3 feature column names were recorded/ });
});

test("repeated recorded names take the columns of that name in file order", (t) => {
  const header = ["b", "a", "a", "y"];
  const binding = bindColumns("d.csv", 1, header, [f32("x", 3), f32("y")], { features: ["a", "b", "a"] });
  t.deepEqual(binding.inputs[0]!.columns, [1, 0, 2]);
});
