import test from "ava";
import * as fs from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { idxToCsv } from "../../../runtime/data/idx.js";
import { loadDataset } from "../../../runtime/data/load.js";
import { DataError } from "../../../runtime/data/types.js";
import { scratchDir, writeData } from "./files.js";

/** An idx file: magic 0x000008NN, big-endian u32 dims, then the bytes. */
function idx(dims: number[], values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 + dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

// Three 2x2 images and their labels.
const PIXELS = [0, 1, 10, 255, 7, 8, 9, 100, 200, 0, 0, 42];
const LABELS = [9, 0, 3];
const EXPECTED = "label,pixel1,pixel2,pixel3,pixel4\n9,0,1,10,255\n0,7,8,9,100\n3,200,0,0,42\n";

const dir = scratchDir("data-idx");
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));
let count = 0;
const path = (name: string) => join(dir, `${count++}-${name}`);
const write = (name: string, bytes: Uint8Array) => writeData(dir, `${count++}-${name}`, bytes);

test("idx images and labels become label,pixel1..pixelN lines of integers", async (t) => {
  const out = path("out.csv");
  const result = await idxToCsv(write("images-idx3-ubyte", idx([3, 2, 2], PIXELS)), write("labels-idx1-ubyte", idx([3], LABELS)), out);
  t.deepEqual(result, { rows: 3 });
  t.is(fs.readFileSync(out, "latin1"), EXPECTED);
});

test("gzipped idx inputs are read and a .gz output is gzipped, both by name", async (t) => {
  const out = path("out.csv.gz");
  await idxToCsv(write("images-idx3-ubyte.gz", idx([3, 2, 2], PIXELS)), write("labels-idx1-ubyte.gz", idx([3], LABELS)), out);
  t.is(gunzipSync(fs.readFileSync(out)).toString("latin1"), EXPECTED);
});

test("the converted file loads as a data set of pixels and labels", async (t) => {
  const out = path("out.csv");
  await idxToCsv(write("images", idx([3, 2, 2], PIXELS)), write("labels", idx([3], LABELS)), out);
  const ds = await loadDataset(out, [
    { name: "pixels", dtype: "f32", shape: ["batch", 2, 2, 1] },
    { name: "label", dtype: "i32", shape: ["batch"], classes: 10 },
  ]);
  t.deepEqual([...ds.inputs.get("pixels")!.data], PIXELS);
  t.deepEqual([...ds.inputs.get("label")!.data], LABELS);
});

test("more images than one block are all converted, in order", async (t) => {
  const n = 2500;
  const pixels = Array.from({ length: n }, (_, i) => i % 256);
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  const out = path("many.csv");
  t.deepEqual(await idxToCsv(write("images", idx([n, 1, 1], pixels)), write("labels", idx([n], labels)), out), { rows: n });
  const lines = fs.readFileSync(out, "latin1").split("\n");
  t.is(lines.length, n + 2, "header, rows and the empty string after the last newline");
  t.is(lines[n], `${(n - 1) % 10},${(n - 1) % 256}`);
});

test("a wrong magic number is an error naming the file and the expected magic", async (t) => {
  const labels = write("labels", idx([3], LABELS));
  const out = path("out.csv");
  await t.throwsAsync(idxToCsv(labels, labels, out), {
    instanceOf: DataError,
    message: `${labels}: magic number 0x00000801 is not that of an idx3 image file; expected 0x00000803`,
  });
  t.false(fs.existsSync(out));
});

test("gzip data under a name without .gz is pointed out", async (t) => {
  const images = write("images.gz", idx([3, 2, 2], PIXELS));
  const renamed = path("images");
  fs.renameSync(images, renamed);
  await t.throwsAsync(idxToCsv(renamed, write("labels", idx([3], LABELS)), path("out.csv")), {
    instanceOf: DataError,
    message: /^.*images: magic number 0x1f8b08.. is not that of an idx3 image file \(this is gzip data: name the file \.gz\); expected 0x00000803$/,
  });
});

test("a label count that differs from the image count is an error", async (t) => {
  const images = write("images", idx([3, 2, 2], PIXELS));
  const labels = write("labels", idx([2], LABELS.slice(0, 2)));
  await t.throwsAsync(idxToCsv(images, labels, path("out.csv")), {
    instanceOf: DataError,
    message: `${labels}: 2 labels for the 3 images of ${images}; expected one label per image`,
  });
});

test("truncated images are an error and leave neither the output nor a temp file", async (t) => {
  const images = write("images", idx([3, 2, 2], PIXELS).subarray(0, 16 + 10));
  const outDir = join(dir, "alone"); // other tests' temp files come and go in `dir`
  fs.mkdirSync(outDir);
  const out = join(outDir, "out.csv");
  await t.throwsAsync(idxToCsv(images, write("labels", idx([3], LABELS)), out), {
    instanceOf: DataError,
    message: `${images}: truncated after 0 of 3 images`,
  });
  t.deepEqual(fs.readdirSync(outDir), []);
});

test("bytes after the last image are an error", async (t) => {
  const images = write("images", idx([3, 2, 2], [...PIXELS, 1, 2]));
  await t.throwsAsync(idxToCsv(images, write("labels", idx([3], LABELS)), path("out.csv")), {
    instanceOf: DataError,
    message: `${images}: 2 bytes after the 3 images; expected the file to end there`,
  });
});

test("a missing input is an error naming it", async (t) => {
  const missing = path("missing");
  await t.throwsAsync(idxToCsv(missing, write("labels", idx([3], LABELS)), path("out.csv")), {
    instanceOf: DataError,
    message: `${missing}: no such file`,
  });
});

test("a failed conversion leaves an existing output untouched", async (t) => {
  const out = path("out.csv");
  fs.writeFileSync(out, "previous");
  await t.throwsAsync(idxToCsv(write("images", idx([3, 2, 2], PIXELS.slice(0, 5))), write("labels", idx([3], LABELS)), out), { instanceOf: DataError });
  t.is(fs.readFileSync(out, "latin1"), "previous");
});
