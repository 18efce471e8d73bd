import test from "ava";
import * as fs from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { loadDataset } from "../../../runtime/data/load.js";
import { DataError, type InputSpec } from "../../../runtime/data/types.js";
import { fromRoot } from "../../helpers/paths.js";
import { scratchDir, writeData } from "./files.js";

const IRIS = fromRoot("data/iris.csv");
const DIGITS = fromRoot("data/digits.csv");
const DIABETES = fromRoot("data/diabetes.csv");

const f32 = (name: string, ...row: number[]): InputSpec => ({ name, dtype: "f32", shape: ["batch", ...row] });
const i32 = (name: string, classes?: number): InputSpec => ({ name, dtype: "i32", shape: ["batch"], ...(classes === undefined ? {} : { classes }) });
/** The model of the small fixtures: two features and a 3-class label. */
const XY = [f32("x", 2), i32("y", 3)];

const dir = scratchDir("data-load");
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
/** A data file with this content; the name (and so a .gz suffix) is unique per call. */
const csv = (content: string | Uint8Array, suffix = ".csv") => writeData(dir, `f${fileCount++}${suffix}`, content);

const valuesOf = async (file: string, specs: readonly InputSpec[] = XY) => {
  const ds = await loadDataset(file, specs);
  return Object.fromEntries([...ds.inputs].map(([name, input]) => [name, [...input.data]]));
};

/** The file as a naive reader sees it: split lines on \n and fields on commas. */
function naiveRows(path: string): number[][] {
  return fs.readFileSync(path, "utf8").trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
}

test("iris binds its four measurements to the features and species by name", async (t) => {
  const ds = await loadDataset(IRIS, [f32("features", 4), i32("species", 3)]);
  t.is(ds.rows, 150);
  t.deepEqual(ds.header, ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]);
  t.is(ds.features, "features");
  const features = ds.inputs.get("features")!;
  const species = ds.inputs.get("species")!;
  t.deepEqual({ dtype: features.dtype, width: features.width, rowShape: features.rowShape }, { dtype: "f32", width: 4, rowShape: [4] });
  t.true(features.data instanceof Float32Array);
  t.true(species.data instanceof Int32Array);
  t.deepEqual([...features.data.subarray(0, 4)], [5.1, 3.5, 1.4, 0.2].map(Math.fround));
  t.deepEqual([...features.data.subarray(596)], [5.9, 3.0, 5.1, 1.8].map(Math.fround));
  t.deepEqual([0, 1, 2].map((c) => species.data.filter((v) => v === c).length), [50, 50, 50]);
});

test("digits binds the 64 pixel columns to an [8, 8] input and the trailing label by name", async (t) => {
  const ds = await loadDataset(DIGITS, [f32("pixels", 8, 8), i32("label", 10)]);
  const rows = naiveRows(DIGITS);
  t.is(ds.rows, 1797);
  const pixels = ds.inputs.get("pixels")!;
  t.deepEqual(pixels.rowShape, [8, 8]);
  t.is(pixels.data.length, 1797 * 64, "trimmed to exactly rows x width");
  t.deepEqual([...pixels.data], rows.flatMap((r) => r.slice(0, 64)));
  t.deepEqual([...ds.inputs.get("label")!.data], rows.map((r) => r[64]!));
});

test("diabetes binds ten columns to the features and the target column to an f32 target", async (t) => {
  const ds = await loadDataset(DIABETES, [f32("x", 10), f32("target")]);
  const rows = naiveRows(DIABETES);
  t.is(ds.rows, 442);
  t.is(ds.features, "x");
  t.deepEqual([...ds.inputs.get("x")!.data], rows.flatMap((r) => r.slice(0, 10).map(Math.fround)));
  t.deepEqual([...ds.inputs.get("target")!.data], rows.map((r) => r[10]!));
});

test("the label and ignore options reach the column binding", async (t) => {
  const ds = await loadDataset(IRIS, [f32("x", 4), i32("y", 3)], { label: "species" });
  t.is(ds.inputs.get("y")!.data[149], 2);
  const unlabeled = await loadDataset(IRIS, [f32("x", 4)], { ignore: ["species"] });
  t.deepEqual([...unlabeled.inputs.keys()], ["x"]);
  t.is(unlabeled.header.length, 5);
});

test("a UTF-8 BOM before the header is not part of the first column name", async (t) => {
  const ds = await loadDataset(csv("\ufeffa,b,y\n1,2,0\n"), XY);
  t.deepEqual(ds.header, ["a", "b", "y"]);
});

test("CRLF line ends read like LF", async (t) => {
  t.deepEqual(await valuesOf(csv("a,b,y\r\n1,2,0\r\n3,4,1\r\n")), { x: [1, 2, 3, 4], y: [0, 1] });
});

test("quoted fields may hold delimiters in names and blanks around numbers", async (t) => {
  const ds = await loadDataset(csv('"width, cm","height ""h""",y\n"1.5"," 2 ","0"\n'), XY);
  t.deepEqual(ds.header, ["width, cm", 'height "h"', "y"]);
  t.deepEqual([...ds.inputs.get("x")!.data], [1.5, 2]);
});

test("a .csv.gz file is gunzipped, decided by its name", async (t) => {
  t.deepEqual(await valuesOf(csv("a,b,y\n1,2,0\n5,6,2\n", ".csv.gz")), { x: [1, 2, 5, 6], y: [0, 2] });
});

test("cells are decimals with optional sign, fraction, exponent and surrounding blanks", async (t) => {
  t.deepEqual(await valuesOf(csv("a,b,y\n-2.5,1e-3,1\n.5, 7 ,2\n")), { x: [-2.5, 1e-3, 0.5, 7].map(Math.fround), y: [1, 2] });
});

test("header names are trimmed", async (t) => {
  const ds = await loadDataset(csv(" a , b , y \n1,2,0\n"), XY);
  t.deepEqual(ds.header, ["a", "b", "y"]);
});

test("blank lines are not rows, and line numbers still count them", async (t) => {
  const file = csv("a,b,y\n\n1,2,0\n\n3,x,1\n\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:5:2: cell 'x' in column 'b' is not a number` });
  t.deepEqual(await valuesOf(csv("a,b,y\n\n1,2,0\n\n3,4,1\n\n")), { x: [1, 2, 3, 4], y: [0, 1] });
});

test("the line of a bad cell counts the lines inside quoted fields before it", async (t) => {
  const file = csv('"a\nfirst",b,y\n1,2,0\n3,?,1\n');
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:4:2: cell '?' in column 'b' is not a number` });
});

test("rows beyond the initial capacity grow the arrays and are all kept", async (t) => {
  const lines = Array.from({ length: 1000 }, (_, i) => `${i},${-i},${i % 3}`);
  const ds = await loadDataset(csv(`a,b,y\n${lines.join("\n")}\n`), XY);
  t.is(ds.rows, 1000);
  t.is(ds.inputs.get("x")!.data.length, 2000);
  t.deepEqual([...ds.inputs.get("x")!.data.subarray(1998)], [999, -999]);
});

test("a non-numeric cell is an error at its line and column", async (t) => {
  const file = csv("sepal_length,sepal_width,y\n1,2,0\n3,abc,1\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:3:2: cell 'abc' in column 'sepal_width' is not a number` });
});

test("an empty cell is an error, not zero", async (t) => {
  const file = csv("a,b,y\n1,,0\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:2:2: cell '' in column 'b' is not a number` });
});

test("NaN and Infinity cells are errors", async (t) => {
  const nan = csv("a,b,y\nNaN,1,0\n");
  await t.throwsAsync(loadDataset(nan, XY), { instanceOf: DataError, message: `${nan}:2:1: cell 'NaN' in column 'a' is not a number` });
  const inf = csv("a,b,y\n1,-Infinity,0\n");
  await t.throwsAsync(loadDataset(inf, XY), { instanceOf: DataError, message: `${inf}:2:2: cell '-Infinity' in column 'b' is not a number` });
});

test("a number beyond the f32 range is an error rather than infinity", async (t) => {
  const file = csv("a,b,y\n1e39,1,0\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:2:1: cell '1e39' in column 'a' is out of the f32 range` });
});

test("a long bad cell is abbreviated in the message", async (t) => {
  const file = csv(`a,b,y\n1,${"x".repeat(40)},0\n`);
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:2:2: cell '${"x".repeat(21)}...' in column 'b' is not a number` });
});

test("a label out of 0..classes-1 is an error naming the range", async (t) => {
  const file = csv("a,b,y\n1,2,0\n1,2,3\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:3:3: label 3 is out of range for 3 classes (0..2)` });
  const ten = csv(`label,p\n9,0\n10,0\n`);
  await t.throwsAsync(loadDataset(ten, [f32("p"), i32("label", 10)]), {
    instanceOf: DataError,
    message: `${ten}:3:1: label 10 is out of range for 10 classes (0..9)`,
  });
});

test("a negative label is out of range", async (t) => {
  const file = csv("a,b,y\n1,2,-1\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:2:3: label -1 is out of range for 3 classes (0..2)` });
});

test("an i32 input must hold integers", async (t) => {
  const file = csv("a,b,y\n1,2,1.5\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:2:3: cell '1.5' in column 'y' is not an integer; input 'y' is i32` });
});

test("an i32 input without classes takes any 32-bit integer, negatives included", async (t) => {
  const specs = [f32("x"), i32("id")];
  t.deepEqual(await valuesOf(csv("x,id\n1,-7\n2,2147483647\n"), specs), { x: [1, 2], id: [-7, 2147483647] });
  const file = csv("x,id\n1,2147483648\n");
  await t.throwsAsync(loadDataset(file, specs), { instanceOf: DataError, message: `${file}:2:2: cell '2147483648' in column 'id' is out of the i32 range` });
});

test("a row with the wrong number of fields is an error with the expected count", async (t) => {
  const file = csv("a,b,y\n1,2,0\n1,2\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:3: the row has 2 fields; expected 3, as in the header` });
  const long = csv("a,b,y\n1,2,0,4\n");
  await t.throwsAsync(loadDataset(long, XY), { instanceOf: DataError, message: `${long}:2: the row has 4 fields; expected 3, as in the header` });
});

test("a header without rows is an error", async (t) => {
  const file = csv("a,b,y\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}: no data rows after the header; expected at least one row` });
});

test("an empty file is an error", async (t) => {
  const file = csv("");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}: the file is empty; expected a header row` });
});

test("a header that does not fit the model fails at its line before any row is read", async (t) => {
  const file = csv("a,b,c,y\n1,2,3,oops\n");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}:1: 'x' expects 2 columns, 3 remain (a, b, c)` });
});

test("a stray quote is an error at its line and column", async (t) => {
  const file = csv('a,b,y\n1,"2"x,0\n');
  await t.throwsAsync(loadDataset(file, XY), {
    instanceOf: DataError,
    message: `${file}:2:2: a quoted field is followed by more text; expected a delimiter or the end of the line after the closing quote`,
  });
  const open = csv('a,b,y\n1,2x"3,0\n');
  await t.throwsAsync(loadDataset(open, XY), {
    instanceOf: DataError,
    message: `${open}:2:2: a quote inside an unquoted field; expected quotes around the whole field`,
  });
});

test("a quote left open is an error at the line where it opened, not at the end of the file", async (t) => {
  const file = csv('a,b,y\n1,"2,0\n');
  await t.throwsAsync(loadDataset(file, XY), {
    instanceOf: DataError,
    message: `${file}:2: a quoted field opens on this line and is never closed; expected a closing quote`,
  });
  // Closed quotes, escaped quotes and quoted line breaks before it do not confuse the count.
  const later = csv('"a\n""",b,y\n1,"2",0\n\n3,4,0\n5,"6,0\n7,8,0\n9,10,0\n', ".csv.gz");
  await t.throwsAsync(loadDataset(later, XY), {
    instanceOf: DataError,
    message: `${later}:6: a quoted field opens on this line and is never closed; expected a closing quote`,
  });
});

test("gzip data in a file named .csv is refused before it is parsed", async (t) => {
  const file = writeData(dir, "zipped.csv", gzipSync("a,b,y\n1,2,0\n"));
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}: looks gzip-compressed: name it zipped.csv.gz` });
});

test("binary data is not text, decompressed or not", async (t) => {
  const bytes = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]); // a zip file's first bytes
  const file = writeData(dir, "archive.csv", bytes);
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}: is not text (byte 0x03 at offset 2); expected a CSV file` });
  const gz = writeData(dir, "archive.csv.gz", bytes);
  await t.throwsAsync(loadDataset(gz, XY), { instanceOf: DataError, message: `${gz}: is not text (byte 0x03 at offset 2 after gunzip); expected a CSV file` });
});

test("tabs and CRLF line ends are text", async (t) => {
  const file = csv("a,b,y\r\n1,\t2,0\r\n");
  t.is((await loadDataset(file, XY)).rows, 1);
});

test("a missing file is an error naming the path", async (t) => {
  const file = join(dir, "missing.csv");
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}: no such file` });
});

test("a directory is an error naming the path", async (t) => {
  await t.throwsAsync(loadDataset(dir, XY), { instanceOf: DataError, message: `${dir}: is a directory; expected a file` });
});

test("a .gz name on data that is not gzip is an error naming the path", async (t) => {
  const file = writeData(dir, "plain.csv", "a,b,y\n1,2,0\n");
  const named = join(dir, "plain-named.csv.gz");
  fs.copyFileSync(file, named);
  await t.throwsAsync(loadDataset(named, XY), {
    instanceOf: DataError,
    message: `${named}: not gzip data (incorrect header check); expected a gzip file, as the name ends in .gz`,
  });
});

test("truncated gzip data is an error naming the path", async (t) => {
  const whole = fs.readFileSync(csv(`a,b,y\n${"1,2,0\n".repeat(1000)}`, ".csv.gz"));
  const file = join(dir, "truncated.csv.gz");
  fs.writeFileSync(file, whole.subarray(0, whole.length - 12));
  await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError, message: `${file}: the gzip data is truncated (unexpected end of file)` });
});

test("a symbolic dim after the batch dim fails before the file is opened", async (t) => {
  await t.throwsAsync(loadDataset(join(dir, "missing.csv"), [{ name: "x", dtype: "f32", shape: ["batch", "n"] }]), {
    instanceOf: DataError,
    message: /input 'x' has shape \[batch, n\] with symbolic 'n' after the batch dimension/,
  });
});
