// exportOnnx: one entry point of a compiled model, with its weights, as an
// ONNX model (opset 17). It reads only the artifact's program (the CPU
// program's graph, which every artifact has), so it runs without the compiler.
//
// The graph's inputs are the entry's, with symbolic sizes (the batch) as
// dim_params; its outputs keep the entry's names; parameters are
// initializers under their `param` names. A checkpoint's normalization, which
// `dlc predict` applies to the features before the model sees them, is folded
// in as the graph's first nodes, so that the exported model takes raw features.

import type { NormStats } from "../../data/normalize.js";
import { isSymbolName, type Shape } from "../../program/dim.js";
import type { EntryProgram, ModelProgram, TensorSpec } from "../../program/model.js";
import type { Op } from "../../program/ops.js";
import { locationOf } from "../../program/program.js";
import { VERSION } from "../../version.js";
import { elemType, GraphBuilder, type SymbolSource } from "./builder.js";
import { isRefusal, LOWERINGS, type AnyLowering } from "./ops.js";
import { encodeModel, type DimProto, type ValueInfoProto } from "./schema.js";

/** The opset the exported models import (ONNX 1.12+, onnxruntime 1.12+). */
export const OPSET = 17;
/** The IR version that goes with opset 17. */
export const IR_VERSION = 8;

export interface OnnxExportOptions {
  /** The entry point to export (default "predict"). */
  readonly entry?: string;
  /** Every parameter the entry reads, by name (a checkpoint's values, or a bound model's params). */
  readonly weights: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array | { readonly data: Float32Array | Int32Array }>>;
  /** A checkpoint's feature normalization, folded into the graph: the model then takes raw features. */
  readonly normalization?: NormStats;
}

/** An entry point that cannot be exported: an input error (the CLI exits with 2). */
export class OnnxExportError extends Error {
  constructor(
    message: string,
    readonly entry: string,
    readonly op?: Op,
    readonly node?: number,
  ) {
    super(message);
    this.name = "OnnxExportError";
  }
}

const valueInfo = (spec: TensorSpec, name = spec.name): ValueInfoProto => ({
  name,
  type: { tensor_type: { elem_type: elemType(spec.dtype), shape: { dim: spec.shape.map((d): DimProto => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
});

function weightOf(weights: OnnxExportOptions["weights"], name: string): Float32Array | undefined {
  const w = weights instanceof Map ? weights.get(name) : (weights as Record<string, Float32Array | { data: Float32Array | Int32Array }>)[name];
  if (w === undefined) return undefined;
  const data = w instanceof Float32Array ? w : w.data;
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** Where each symbolic size can be read: the first input axis that is exactly that symbol. */
function symbolSources(entry: EntryProgram): Map<string, SymbolSource> {
  const sources = new Map<string, SymbolSource>();
  for (const input of entry.inputs) {
    input.shape.forEach((d, axis) => {
      if (typeof d === "string" && isSymbolName(d) && !sources.has(d)) sources.set(d, { input: input.name, axis });
    });
  }
  return sources;
}

/** The ONNX model's bytes. */
export function exportOnnx(model: ModelProgram, options: OnnxExportOptions): Uint8Array {
  const name = options.entry ?? "predict";
  const entry = model.entries.find((e) => e.name === name);
  if (!entry) throw new OnnxExportError(`the model has no entry point '${name}' (it has ${model.entries.map((e) => e.name).join(", ")})`, name);
  const { nodes, outputs } = entry.cpu.graph;
  // An error names the node's line in the model where the artifact keeps it, else its index in the entry's graph.
  const where = (i: number) => locationOf(entry.cpu.graph, i) ?? `entry '${name}', node ${i}`;

  for (const o of outputs) {
    if (entry.inputs.some((i) => i.name === o.name)) throw new OnnxExportError(`${where(o.node)}: the output '${o.name}' has the name of an input, which ONNX does not allow`, name);
  }
  const params = new Set(nodes.flatMap((n) => (n.op === "param" ? [n.attrs.name] : [])));
  const g = new GraphBuilder([...entry.inputs.map((i) => i.name), ...entry.outputs.map((o) => o.name), ...params], symbolSources(entry));
  const values: string[] = [];
  const initialized = new Set<string>();

  nodes.forEach((n, i) => {
    g.origin = `${n.op}#${i}`;
    if (n.op === "input") {
      values.push(prologue(g, entry, n.attrs.name, options.normalization));
      return;
    }
    if (n.op === "param") {
      const p = n.attrs;
      if (!initialized.has(p.name)) {
        const data = weightOf(options.weights, p.name);
        const size = (p.shape as number[]).reduce((a, b) => a * b, 1);
        if (!data) throw new OnnxExportError(`${where(i)}: no weights for parameter '${p.name}'`, name, n.op, i);
        if (data.length !== size) throw new OnnxExportError(`${where(i)}: parameter '${p.name}' is [${p.shape.join(", ")}] (${size} values), the weights have ${data.length}`, name, n.op, i);
        g.initializer(p.name, p.shape as number[], data);
        initialized.add(p.name);
      }
      values.push(p.name);
      return;
    }
    const lowering = LOWERINGS[n.op];
    if (isRefusal(lowering)) throw new OnnxExportError(`${where(i)}: cannot export ${n.op} to ONNX: ${lowering.refuse}`, name, n.op, i);
    const inputs = n.inputs.map((k) => values[k]!);
    const inputTypes = n.inputs.map((k) => nodes[k]!);
    try {
      values.push((lowering as AnyLowering)(n, { g, inputs, inputTypes }));
    } catch (e) {
      throw new OnnxExportError(`${where(i)}: cannot export ${n.op} to ONNX: ${(e as Error).message}`, name, n.op, i);
    }
  });

  g.origin = "output";
  for (const o of outputs) g.op("Identity", [values[o.node]!], {}, o.name);

  return encodeModel({
    ir_version: IR_VERSION,
    opset_import: [{ domain: "", version: OPSET }],
    producer_name: "dlc",
    producer_version: VERSION,
    doc_string: `${model.file}: entry point '${name}'`,
    graph: {
      name: `${model.file.replace(/\.[cm]?ts$/, "")}.${name}`,
      node: g.nodes,
      initializer: g.initializers,
      input: entry.inputs.map((s) => valueInfo(s)),
      output: entry.outputs.map((s) => valueInfo(s)),
    },
    metadata_props: [
      { key: "dlc.model", value: model.file },
      { key: "dlc.model_hash", value: model.hash },
      { key: "dlc.entry", value: name },
      ...(options.normalization && options.normalization.kind !== "none" ? [{ key: "dlc.normalization", value: `${options.normalization.kind} on '${options.normalization.input}', folded into the graph` }] : []),
    ],
  });
}

/** The graph input `input`, normalized when the checkpoint says so: (x - shift) * scale per feature column. */
function prologue(g: GraphBuilder, entry: EntryProgram, input: string, norm: NormStats | undefined): string {
  if (!norm || norm.kind === "none" || norm.input !== input) return input;
  const spec = entry.inputs.find((s) => s.name === input)!;
  const features: Shape = spec.shape.slice(1);
  const width = features.every((d) => typeof d === "number") ? (features as number[]).reduce((a, b) => a * b, 1) : NaN;
  if (spec.dtype !== "f32" || width !== norm.shift.length || width !== norm.scale.length) {
    throw new OnnxExportError(`the normalization of '${input}' has ${norm.shift.length} columns; '${input}' is ${spec.dtype}[${spec.shape.join(", ")}]`, entry.name);
  }
  const dims = features as number[];
  return g.op("Mul", [g.op("Sub", [input, g.constant(dims, norm.shift)]), g.constant(dims, norm.scale)]);
}
