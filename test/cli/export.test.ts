// dlc export: the ONNX file it writes predicts what dlc predict predicts (the
// checkpoint's normalization folded in, so both read the raw CSV); an op with
// no ONNX form, an unknown entry or a bad output path is an input error (exit 2).

import test from "ava";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { compile } from "../../compiler/api.js";
import { dlc } from "../helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "dlc-export-"));

/** The iris CSV's feature columns, row-major, and the row count. */
function irisFeatures(): { data: Float32Array; rows: number } {
  const lines = readFileSync("data/iris.csv", "utf8").trim().split("\n");
  const header = lines[0]!.split(",");
  const label = header.indexOf("species");
  const values = lines.slice(1).flatMap((l) => l.split(",").filter((_, i) => i !== label).map(Number));
  return { data: Float32Array.from(values), rows: lines.length - 1 };
}

test("dlc export writes a model that onnxruntime runs on raw features, predicting the classes dlc predict writes", async (t) => {
  const dir = tmp();
  const [artifact, weights, onnx, preds] = ["iris.dlc", "w.safetensors", "iris.onnx", "preds.csv"].map((f) => join(dir, f)) as [string, string, string, string];
  t.is(dlc(["compile", "models/iris.ts", "-o", artifact, "--quiet"]).status, 0);
  const trained = dlc(["train", artifact, "--data", "data/iris.csv", "--epochs", "3", "--normalize", "standard", "--save", weights, "--backend", "cpu", "--quiet"]);
  t.is(trained.status, 0, trained.stderr);
  const r = dlc(["export", artifact, "--weights", weights, "-o", onnx]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /^dlc: wrote .*iris\.onnx: entry 'predict' \(x\[batch, 4\] -> predict\[batch\]\), ONNX opset 17, \d+ bytes; the checkpoint's standard normalization of 'x' is part of the graph: feed raw features\n$/);
  t.is(dlc(["predict", artifact, "--weights", weights, "--data", "data/iris.csv", "--out", preds, "--backend", "cpu", "--quiet"]).status, 0);
  const expected = readFileSync(preds, "utf8").trim().split("\n").slice(1).map(Number);

  const { data, rows } = irisFeatures();
  const session = await ort.InferenceSession.create(onnx);
  t.deepEqual(session.inputNames, ["x"]);
  t.deepEqual(session.outputNames, ["predict"]);
  const out = await session.run({ x: new ort.Tensor("float32", data, [rows, 4]) });
  t.deepEqual([...(out.predict!.data as Int32Array)], expected);
  t.true(new Set(expected).size > 1, "the model predicts more than one class");
  await session.release();

  const json = dlc(["export", artifact, "--weights", weights, "-o", join(dir, "logits.onnx"), "--entry", "logits", "--json"]);
  t.is(json.status, 0, json.stderr);
  t.like(JSON.parse(json.stdout), { entry: "logits", opset: 17, inputs: ["x"], outputs: ["logits"], normalization: "standard" });
});

test("an op with no ONNX form, an unknown entry and an output that is an input exit with 2 and one line; nothing is written", async (t) => {
  const dir = tmp();
  // The CNN's gradient entry holds convolution and pooling gradients, which have no ONNX form.
  const cnn = compile("models/cnn.ts", { grad: ["loss"], webgpu: false });
  const artifact = join(dir, "cnn.dlc");
  const weights = join(dir, "cnn.safetensors");
  cnn.save(artifact);
  const bound = await cnn.on("cpu");
  await bound.save(weights);
  bound.dispose();
  const out = join(dir, "grad.onnx");

  const grad = dlc(["export", artifact, "--weights", weights, "-o", out, "--entry", "loss.grad"]);
  t.is(grad.status, 2);
  t.regex(grad.stderr, /^dlc: .*cnn\.dlc: cnn\.ts:\d+:\d+: cannot export (conv2dFilterGrad|conv2dInputGrad|maxPool2dGrad) to ONNX: it occurs only in gradients and the training step; export an inference entry point such as predict\n$/);
  t.false(existsSync(out));

  const missing = dlc(["export", artifact, "--weights", weights, "-o", out, "--entry", "embed"]);
  t.is(missing.status, 2);
  t.regex(missing.stderr, /^dlc: .*cnn\.dlc: the model has no entry point 'embed' \(it has logits, predict, loss, loss\.grad\)\n$/);

  const onto = dlc(["export", artifact, "--weights", weights, "-o", weights]);
  t.is(onto.status, 2);
  t.regex(onto.stderr, /refusing to overwrite an input/);

  t.is(dlc(["export", artifact, "-o", out]).status, 2, "--weights is required");
  t.false(existsSync(out));

  const ok = dlc(["export", artifact, "--weights", weights, "-o", out, "--quiet"]);
  t.is(ok.status, 0, ok.stderr);
  t.is(ok.stderr, "");
  t.true(existsSync(out));
});
