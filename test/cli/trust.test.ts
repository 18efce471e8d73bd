// Nothing trusted blindly: weights, artifacts and data files that are wrong
// in ways a reader could miss are refused with one clear line, and names read
// from files never reach the terminal as control characters.

import test from "ava";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { loadCheckpoint, saveCheckpoint, withDigests } from "../../runtime/checkpoint/index.js";
import { dlc, irisArtifactAndWeights } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-trust-"));
const ESC = "\u001b";

const shared = tmp();
const { artifact, weights } = irisArtifactAndWeights(shared);

/** A copy of the shared checkpoint with `value` at `w[index]`, its checksums recomputed (as a run that diverged would write them). */
function poisoned(value: number, index: number): string {
  const ckpt = loadCheckpoint(weights);
  const w = ckpt.tensors.get("w")!;
  const data = Float32Array.from(w.data);
  data[index] = value;
  const path = join(tmp(), "bad.safetensors");
  const tensors = new Map([...ckpt.tensors, ["w", { ...w, data }]]);
  saveCheckpoint(path, tensors, withDigests(tensors, ckpt.metadata));
  return path;
}

for (const [value, index] of [[NaN, 5], [Infinity, 0], [-Infinity, 11]] as const) {
  test(`eval and predict refuse weights holding ${value}, naming the tensor and the index`, (t) => {
    const bad = poisoned(value, index);
    for (const command of [["eval"], ["predict", "--out", "-"]]) {
      const r = dlc([...command, "--backend", "cpu", artifact, "--weights", bad, "--data", "data/iris.csv"]);
      t.is(r.status, 2, r.stderr);
      t.is(r.stdout, "");
      t.is(r.stderr, `dlc: ${bad}: tensor "w" holds ${value} at index ${index} (of 12); expected finite weights (did the run that wrote it diverge?)\n`);
    }
  });
}

/** The shared artifact with its payload edited and its digest recomputed. */
function editedArtifact(edit: (payload: Record<string, any>) => void, header: Record<string, unknown> = {}): string {
  const [headerLine, payloadLine] = readFileSync(artifact, "utf8").split("\n") as [string, string];
  const payload = JSON.parse(payloadLine);
  edit(payload);
  const body = JSON.stringify(payload);
  const h = { ...JSON.parse(headerLine), payload_bytes: Buffer.byteLength(body), sha256: createHash("sha256").update(body).digest("hex"), ...header };
  const path = join(tmp(), "edited.dlc");
  writeFileSync(path, JSON.stringify(h) + "\n" + body + "\n");
  return path;
}

test("names read from an artifact reach the terminal with their control characters escaped", (t) => {
  const evil = editedArtifact((p) => {
    p.model.file = `${ESC}]0;pwned${ESC}\\${ESC}[2J\u202eiris.ts`;
  });
  const inspected = dlc(["inspect", evil]);
  t.is(inspected.status, 0, inspected.stderr);
  t.false(inspected.stdout.includes(ESC));
  t.false(inspected.stdout.includes("\u202e"));
  t.regex(inspected.stdout, /^model \\x1b\]0;pwned\\x1b\\\\x1b\[2J\\u202eiris\.ts /m);
  const trained = dlc(["train", "--backend", "cpu", evil, "--data", "data/iris.csv", "--epochs", "1"]);
  t.is(trained.status, 0, trained.stderr);
  t.false(trained.stdout.includes(ESC) || trained.stderr.includes(ESC));
  t.regex(trained.stdout, /training \\x1b\]0;pwned/);
});

test("a CSV header name and a file path with control characters are escaped in errors", (t) => {
  const dir = tmp();
  const data = join(dir, `bad${ESC}[31mname.csv`);
  // ESC itself makes the file "not text"; C1 CSI (U+009B) and a bidi override are UTF-8 text.
  writeFileSync(data, `sepal_length,sepal_width,petal_length,petal\u009b8m_width\u202e,species\n1,2,3,4,0\n`);
  const r = dlc(["train", "--backend", "cpu", artifact, "--data", data, "--epochs", "1", "--label", "kind"]);
  t.is(r.status, 2);
  t.false(/[\u001b\u009b\u202e]/.test(r.stderr), r.stderr);
  t.regex(r.stderr, /bad\\x1b\[31mname\.csv/);
  t.regex(r.stderr, /petal\\x9b8m_width\\u202e/);
});

test("an artifact whose version is a string says the field has the wrong type", (t) => {
  const r = dlc(["inspect", editedArtifact(() => {}, { version: "1" })]);
  t.is(r.status, 2);
  t.notRegex(r.stderr, /newer/);
  t.regex(r.stderr, /edited\.dlc: the header field "version" is a string; expected an integer/);
});

test("gzip data in a file named .csv says to name it .csv.gz", (t) => {
  const dir = tmp();
  const data = join(dir, "iris.csv");
  writeFileSync(data, gzipSync(readFileSync("data/iris.csv")));
  const r = dlc(["train", "--backend", "cpu", artifact, "--data", data, "--epochs", "1"]);
  t.is(r.status, 2);
  t.is(r.stderr, `dlc: ${data}: looks gzip-compressed: name it iris.csv.gz\n`);
});

test("binary data in a file named .csv is not text, and is not printed", (t) => {
  const dir = tmp();
  const data = join(dir, "iris.csv");
  writeFileSync(data, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x1b, 0x5b, 0x32, 0x4a, 10, 1, 2, 3]));
  const r = dlc(["train", "--backend", "cpu", artifact, "--data", data, "--epochs", "1"]);
  t.is(r.status, 2);
  t.regex(r.stderr, /iris\.csv: is not text \(byte 0x\w\w at offset \d+\); expected a CSV file\n$/);
  t.false(r.stderr.includes(ESC));
});
