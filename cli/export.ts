// `dlc export`: an entry point of a model, with a checkpoint's weights, as an
// ONNX model for the engines that serve and scale (onnxruntime, PyTorch via
// onnx2torch; see docs/scale.md). The exporter and protobufjs load only here.

import { statSync } from "node:fs";
import { writeFileAtomic } from "../runtime/checkpoint/atomic.js";
import { checkFinite } from "../runtime/checkpoint/checkpoint.js";
import { readCheckpoint } from "../runtime/train/checkpoint-file.js";
import { UsageError } from "./exit.js";
import { loadModel } from "./model.js";
import { checkOutputs, named } from "./outputs.js";
import { printable } from "./terminal.js";

export interface ExportOptions {
  weights: string;
  out: string;
  entry: string;
  json?: boolean;
  quiet?: boolean;
}

export async function runExport(file: string, o: ExportOptions): Promise<void> {
  checkOutputs([named("-o", o.out)], [named("the model", file), named("--weights", o.weights)]);
  const model = await loadModel(file, { webgpu: false });
  const ckpt = readCheckpoint(model, o.weights, false);
  checkFinite(ckpt.values, o.weights);
  const { exportOnnx, OnnxExportError, OPSET } = await import("../runtime/export/onnx/index.js");
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(model, { entry: o.entry, weights: ckpt.values, normalization: ckpt.norm });
  } catch (e) {
    if (e instanceof OnnxExportError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
  writeFileAtomic(o.out, bytes);
  const entry = model.entries.find((e) => e.name === o.entry)!;
  const normalized = ckpt.norm !== undefined && ckpt.norm.kind !== "none";
  if (o.json) {
    process.stdout.write(
      JSON.stringify({ out: o.out, entry: o.entry, opset: OPSET, bytes: statSync(o.out).size, inputs: entry.inputs.map((i) => i.name), outputs: entry.outputs.map((x) => x.name), normalization: normalized ? ckpt.norm!.kind : null }) + "\n",
    );
  } else if (!o.quiet) {
    const io = `${entry.inputs.map((i) => `${i.name}[${i.shape.join(", ")}]`).join(", ")} -> ${entry.outputs.map((x) => `${x.name}[${x.shape.join(", ")}]`).join(", ")}`;
    const norm = normalized ? `; the checkpoint's ${ckpt.norm!.kind} normalization of '${ckpt.norm!.input}' is part of the graph: feed raw features` : "";
    process.stderr.write(printable(`dlc: wrote ${o.out}: entry '${o.entry}' (${io}), ONNX opset ${OPSET}, ${statSync(o.out).size} bytes${norm}`) + "\n");
  }
}
