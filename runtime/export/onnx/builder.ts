// An ONNX graph under construction: nodes, initializers, fresh value names,
// constants, and the shape arithmetic that keeps symbolic sizes symbolic.
// A dlc shape may hold "batch" or "784*batch"; ONNX ops that take a shape
// (Reshape, Expand) take it as an int64 tensor, so a symbolic size becomes a
// small computation on the Shape of the graph input that carries it, and the
// exported graph runs at every batch size.

import { type Dim, type Shape } from "../../program/dim.js";
import type { DType } from "../../program/ops.js";
import { AttributeType, DataType, type AttributeProto, type DataTypeCode, type NodeProto, type TensorProto } from "./schema.js";

export const elemType = (dtype: DType): DataTypeCode => (dtype === "f32" ? DataType.FLOAT : DataType.INT32);

export type AttrValue = number | readonly number[] | { readonly float: number };

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === "number") return { name, type: AttributeType.INT, i: v };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v as readonly number[] };
  return { name, type: AttributeType.FLOAT, f: (v as { float: number }).float };
}

function bytesOf(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  // Typed arrays are little-endian on every platform Node runs on, as ONNX's raw_data is.
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export function tensorProto(name: string, dims: readonly number[], data: Float32Array | Int32Array | BigInt64Array): TensorProto {
  const data_type = data instanceof Float32Array ? DataType.FLOAT : data instanceof Int32Array ? DataType.INT32 : DataType.INT64;
  return { name, dims, data_type, raw_data: bytesOf(data) };
}

/** Where a symbolic size can be read: axis `axis` of graph input `input`. */
export interface SymbolSource {
  readonly input: string;
  readonly axis: number;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used: Set<string>;
  private readonly cache = new Map<string, string>();
  /** The label of the dlc node being lowered: each ONNX node it emits is named after it. */
  origin = "";

  constructor(
    reserved: Iterable<string>,
    private readonly symbols: ReadonlyMap<string, SymbolSource>,
  ) {
    this.used = new Set(reserved);
  }

  fresh(hint: string): string {
    for (let i = this.used.size; ; i++) {
      const name = `${hint}_${i}`;
      if (!this.used.has(name)) {
        this.used.add(name);
        return name;
      }
    }
  }

  /** One node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    const name = this.fresh(`${this.origin || "dlc"}/${opType}`);
    this.nodes.push({ name, op_type: opType, input: inputs, output: [out], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  initializer(name: string, dims: readonly number[], data: Float32Array | Int32Array | BigInt64Array): string {
    this.initializers.push(tensorProto(name, dims, data));
    return name;
  }

  /** A constant initializer, shared by every use of the same value. */
  constant(dims: readonly number[], data: Float32Array | Int32Array | BigInt64Array): string {
    const key = `${data.constructor.name}[${dims.join(",")}]:${Array.from(data as ArrayLike<number | bigint>, String).join(",")}`;
    let name = this.cache.get(key);
    if (name === undefined) {
      name = this.initializer(this.fresh("const"), dims, data);
      this.cache.set(key, name);
    }
    return name;
  }

  scalar(value: number, dtype: DType): string {
    return this.constant([], dtype === "f32" ? Float32Array.of(value) : Int32Array.of(value));
  }

  int64s(values: readonly number[]): string {
    return this.constant([values.length], BigInt64Array.from(values, (v) => BigInt(v)));
  }

  /** The size `d` as an int64 tensor of shape [1]. */
  dim(d: Dim): string {
    if (typeof d === "number") return this.int64s([d]);
    return this.memo(`dim:${d}`, () => {
      let value: string | undefined;
      let k = 1;
      for (const part of d.split("*")) {
        if (/^\d+$/.test(part)) {
          k *= Number(part);
          continue;
        }
        const sym = this.symbol(part);
        value = value === undefined ? sym : this.op("Mul", [value, sym]);
      }
      return k === 1 ? value! : this.op("Mul", [value!, this.int64s([k])]);
    });
  }

  /** A shape as an int64 tensor: a constant when static, else concatenated from its sizes. */
  shape(shape: Shape): string {
    if (shape.every((d) => typeof d === "number")) return this.int64s(shape as number[]);
    return this.memo(`shape:${shape.join(",")}`, () => this.op("Concat", shape.map((d) => this.dim(d)), { axis: 0 }));
  }

  /** `d` as a scalar of `dtype` (for Range's limit, a constant's value). */
  dimScalar(d: Dim, dtype: DType): string {
    if (typeof d === "number") return this.scalar(d, dtype);
    return this.memo(`dimScalar:${d}:${dtype}`, () => this.op("Cast", [this.op("Reshape", [this.dim(d), this.int64s([])])], { to: elemType(dtype) }));
  }

  private symbol(name: string): string {
    return this.memo(`symbol:${name}`, () => {
      const source = this.symbols.get(name);
      if (!source) throw new Error(`the symbolic size '${name}' is not an axis of any input`);
      return this.op("Shape", [source.input], { start: source.axis, end: source.axis + 1 });
    });
  }

  private memo(key: string, make: () => string): string {
    let name = this.cache.get(key);
    if (name === undefined) {
      const origin = this.origin;
      this.origin = "shape";
      try {
        name = make();
      } finally {
        this.origin = origin;
      }
      this.cache.set(key, name);
    }
    return name;
  }
}
