import test from "ava";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCompatible, checkFinite, tensorDigest, TENSOR_SHA256, withDigests, type ExpectedTensor } from "../../../runtime/checkpoint/checkpoint.js";
import { loadCheckpoint, saveCheckpoint } from "../../../runtime/checkpoint/file.js";
import { CheckpointError } from "../../../runtime/checkpoint/error.js";
import type { TensorEntry } from "../../../runtime/checkpoint/safetensors.js";

function freshDir(): string {
  return fs.mkdtempSync(join(tmpdir(), "dlc-ckpt-"));
}

const f32 = (shape: number[]): TensorEntry => ({
  dtype: "F32",
  shape,
  data: new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => i / 8),
});

const model: ExpectedTensor[] = [
  { name: "dense1.w", shape: [784, 16] },
  { name: "dense1.b", shape: [16] },
  { name: "dense2.w", shape: [16, 10] },
];

function loadedFor(shapes: Record<string, number[]>): Map<string, TensorEntry> {
  return new Map(Object.entries(shapes).map(([name, shape]) => [name, f32(shape)]));
}

// ---- save and load

test("a saved checkpoint loads back with the same tensors and metadata", (t) => {
  const path = join(freshDir(), "model.safetensors");
  const tensors = loadedFor({ "dense1.w": [3, 2], "dense1.b": [2] });
  saveCheckpoint(path, tensors, { step: "100" });
  const back = loadCheckpoint(path);
  t.deepEqual(back.metadata, { step: "100" });
  for (const [name, entry] of tensors) t.deepEqual(back.tensors.get(name), entry);
});

test("loading a missing file is a CheckpointError naming the path", (t) => {
  const path = join(freshDir(), "nope.safetensors");
  const error = t.throws(() => loadCheckpoint(path), { instanceOf: CheckpointError });
  t.true(error!.message.startsWith(`${path}: cannot read checkpoint (ENOENT`), error!.message);
});

test("loading a directory is a CheckpointError naming the path", (t) => {
  const dir = freshDir();
  t.throws(() => loadCheckpoint(dir), { instanceOf: CheckpointError, message: new RegExp(`^${dir}: cannot read checkpoint \\(EISDIR`) });
});

test("loading a corrupt file is a CheckpointError naming the path", (t) => {
  const path = join(freshDir(), "bad.safetensors");
  fs.writeFileSync(path, "not a checkpoint");
  t.throws(() => loadCheckpoint(path), { instanceOf: CheckpointError, message: new RegExp(`^${path}: header length`) });
});

// ---- compatibility with the model

test("a checkpoint with exactly the model's parameters is compatible", (t) => {
  t.notThrows(() => checkCompatible(loadedFor({ "dense2.w": [16, 10], "dense1.w": [784, 16], "dense1.b": [16] }), model, "m"));
});

test("a missing parameter is named", (t) => {
  t.throws(() => checkCompatible(loadedFor({ "dense1.w": [784, 16], "dense2.w": [16, 10] }), model, "m.safetensors"), {
    instanceOf: CheckpointError,
    message: 'm.safetensors: parameter "dense1.b" is missing',
  });
});

test("a shape mismatch names the parameter and both shapes", (t) => {
  t.throws(() => checkCompatible(loadedFor({ "dense1.w": [16, 784], "dense1.b": [16], "dense2.w": [16, 10] }), model, "m"), {
    instanceOf: CheckpointError,
    message: 'm: parameter "dense1.w" has shape [16, 784] in the checkpoint vs [784, 16] in the model',
  });
});

test("a rank mismatch is a shape mismatch", (t) => {
  t.throws(() => checkCompatible(loadedFor({ "dense1.w": [784, 16], "dense1.b": [1, 16], "dense2.w": [16, 10] }), model, "m"), {
    message: 'm: parameter "dense1.b" has shape [1, 16] in the checkpoint vs [16] in the model',
  });
});

test("the first mismatch in the model's parameter order is the one named", (t) => {
  // dense2.w is wrong and dense1.b is missing; the file lists dense2.w first, the model lists dense1.b first.
  const loaded = loadedFor({ "dense2.w": [10, 16], "dense1.w": [784, 16] });
  t.throws(() => checkCompatible(loaded, model, "m"), { message: 'm: parameter "dense1.b" is missing' });
});

test("a dtype mismatch is named when the model states a dtype", (t) => {
  const loaded = new Map<string, TensorEntry>([["step", { dtype: "F32", shape: [], data: new Float32Array(1) }]]);
  t.throws(() => checkCompatible(loaded, [{ name: "step", shape: [], dtype: "I32" }], "m"), {
    message: 'm: parameter "step" has dtype F32 in the checkpoint vs I32 in the model',
  });
});

test("a tensor the model does not have is refused, with a count of the others", (t) => {
  const loaded = loadedFor({ "dense1.w": [784, 16], "dense1.b": [16], "dense2.w": [16, 10], "dense3.w": [1], "dense3.b": [1] });
  t.throws(() => checkCompatible(loaded, model, "m"), {
    instanceOf: CheckpointError,
    message: 'm: tensor "dense3.w" is not a parameter of the model (and 1 more)',
  });
});

test("extra tensors under an ignorable prefix are allowed", (t) => {
  const loaded = loadedFor({ "dense1.w": [784, 16], "dense1.b": [16], "dense2.w": [16, 10], "adam.m.dense1.w": [784, 16] });
  t.notThrows(() => checkCompatible(loaded, model, "m", ["adam."]));
  t.throws(() => checkCompatible(loaded, model, "m", ["sgd."]), { message: 'm: tensor "adam.m.dense1.w" is not a parameter of the model' });
});

test("finite weights pass; the first NaN or infinity is named with its tensor and index", (t) => {
  t.notThrows(() => checkFinite([["w", new Float32Array([1, -2, 3e38])], ["labels", new Int32Array([1 << 30])]], "w.st"));
  const nan = t.throws(() => checkFinite([["a", new Float32Array([0, 1])], ["b", new Float32Array([0, 1, NaN, Infinity])]], "w.st"), { instanceOf: CheckpointError });
  t.is(nan.message, 'w.st: tensor "b" holds NaN at index 2 (of 4); expected finite weights (did the run that wrote it diverge?)');
  t.regex(t.throws(() => checkFinite([["c", new Float32Array([-Infinity])]], "w.st"))!.message, /tensor "c" holds -Infinity at index 0/);
});

// ---- checksums

test("a checkpoint saved with digests loads; a flipped byte in a tensor is named with the file", (t) => {
  const dir = freshDir();
  const path = join(dir, "model.safetensors");
  const tensors = loadedFor({ "dense1.w": [3, 2], "dense1.b": [2] });
  saveCheckpoint(path, tensors, withDigests(tensors, { step: "1" }));
  t.notThrows(() => loadCheckpoint(path));
  t.is(JSON.parse(loadCheckpoint(path).metadata[TENSOR_SHA256]!)["dense1.b"], tensorDigest(tensors.get("dense1.b")!));
  const bytes = fs.readFileSync(path);
  bytes[bytes.length - 1]! ^= 0x80; // the last byte of "dense1.w", the last tensor by name
  fs.writeFileSync(path, bytes);
  const error = t.throws(() => loadCheckpoint(path), { instanceOf: CheckpointError });
  t.regex(error!.message, new RegExp(`^${path}: tensor "dense1\\.w" does not match its checksum \\(sha256 [0-9a-f]{12}, recorded [0-9a-f]{12}\\); the file is corrupted$`));
});

test("a tensor added or removed after signing, or unreadable digests, are refused; no digests load unverified", (t) => {
  const dir = freshDir();
  const tensors = loadedFor({ a: [2], b: [3] });
  const signed = withDigests(tensors, {});
  const added = join(dir, "added.st");
  saveCheckpoint(added, new Map([...tensors, ["c", f32([1])]]), signed);
  t.throws(() => loadCheckpoint(added), { message: /added\.st: tensor "c" has no recorded checksum/ });
  const removed = join(dir, "removed.st");
  saveCheckpoint(removed, new Map([["a", tensors.get("a")!]]), signed);
  t.throws(() => loadCheckpoint(removed), { message: /removed\.st: tensor "b" is recorded in the checksums but missing/ });
  const garbled = join(dir, "garbled.st");
  saveCheckpoint(garbled, tensors, { [TENSOR_SHA256]: "{" });
  t.throws(() => loadCheckpoint(garbled), { message: /garbled\.st: metadata 'tensor_sha256' is not a JSON object/ });
  const plain = join(dir, "plain.st");
  saveCheckpoint(plain, tensors, {});
  t.notThrows(() => loadCheckpoint(plain));
});
