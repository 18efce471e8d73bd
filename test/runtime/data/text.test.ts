// CSV text (what a browser has: a fetched or picked file) binds as a file
// does: the same data set, and the same one-line errors for bad cells,
// ragged rows, quotes that never close and text that is not CSV.

import test from "ava";
import * as fs from "node:fs";
import { datasetFromText } from "../../../runtime/data/csv.js";
import { loadDataset } from "../../../runtime/data/load.js";
import { DataError, type InputSpec } from "../../../runtime/data/types.js";
import { fromRoot } from "../../helpers/paths.js";
import { scratchDir, writeData } from "./files.js";

const f32 = (name: string, ...row: number[]): InputSpec => ({ name, dtype: "f32", shape: ["batch", ...row] });
const i32 = (name: string, classes?: number): InputSpec => ({ name, dtype: "i32", shape: ["batch"], ...(classes === undefined ? {} : { classes }) });
const XY = [f32("x", 2), i32("y", 3)];

const dir = scratchDir("data-text");
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

for (const [file, specs] of [
  ["data/iris.csv", [f32("features", 4), i32("species", 3)]],
  ["data/digits.csv", [f32("pixels", 64), i32("label", 10)]],
] as const) {
  test(`${file} from text is the data set loadDataset reads from the file`, async (t) => {
    const path = fromRoot(file);
    const fromFile = await loadDataset(path, specs);
    const fromText = datasetFromText(fs.readFileSync(path, "utf8"), path, specs);
    t.deepEqual(fromText, fromFile);
  });
}

const broken: Record<string, string> = {
  "a cell that is not a number": "x,x2,y\n1,2,0\n1,abc,1\n",
  "a label out of range": "x,x2,y\n1,2,0\n1,2,3\n",
  "a ragged row": "x,x2,y\n1,2,0\n1,2\n",
  "a quote that never closes": 'x,x2,y\n1,2,0\n"1,2,1\n1,2,0\n',
  "a quote inside a field": 'x,x2,y\n1,2,0\n1,2"3,1\n',
  "no data rows": "x,x2,y\n",
  "an empty file": "",
  "binary data": "x,x2,y\n\u0001\u0002,1,0\n",
};
let n = 0;
for (const [what, text] of Object.entries(broken)) {
  test(`${what}: the error of the file, word for word`, async (t) => {
    const file = writeData(dir, `f${n++}.csv`, text);
    const fromFile = await t.throwsAsync(loadDataset(file, XY), { instanceOf: DataError });
    const fromText = t.throws(() => datasetFromText(text, file, XY), { instanceOf: DataError });
    t.is(fromText.message, fromFile.message);
    t.false(fromText.message.includes("\n"));
  });
}
