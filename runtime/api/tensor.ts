// Tensors as the programmatic API takes and gives them: a shape and a typed
// array. An input may also be a bare typed array (or plain numbers) when its
// shape follows from the entry point's declaration: every static dimension
// is known and at most one symbolic dimension (the batch) is left to infer.

import type { NDArray } from "../cpu/ndarray.js";
import { formatShape, type Dim } from "../program/dim.js";
import type { TensorSpec } from "../program/model.js";
import { ArgumentError } from "./errors.js";

export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: "f32" | "i32";
  readonly data: Float32Array | Int32Array;
}

/** Float64Array is taken too, and rounded to float32 as the kernels compute in it. */
export type TensorData = Float32Array | Float64Array | Int32Array | readonly number[];

/** What an entry point accepts for one input: `{ shape, data }`, or the data alone when its shape can be inferred. */
export type TensorInput = { readonly shape: readonly number[]; readonly data: TensorData } | TensorData;

/** An input as the backends take it, checked against its declaration; `where` names it in errors ("predict: input 'x'"). */
export function toNDArray(spec: TensorSpec, value: TensorInput, where: string): NDArray {
  if (value === null || typeof value !== "object") throw new ArgumentError(`${where} expects a tensor ${describe(spec)}, got ${value === null ? "null" : typeof value}`);
  const given = isData(value) ? { shape: undefined, data: value } : (value as { shape?: readonly number[]; data?: TensorData });
  if (!isData(given.data)) throw new ArgumentError(`${where} expects { shape, data } with data a Float32Array, Float64Array, Int32Array or an array of numbers`);
  const data = given.data;
  const shape = given.shape ?? inferShape(spec, data.length, where);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new ArgumentError(`${where}: the shape ${JSON.stringify(shape)} is not a list of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ArgumentError(`${where}: the shape ${formatShape(shape)} holds ${count} values, the data has ${data.length}`);
  if (shape.length !== spec.shape.length || spec.shape.some((d, i) => typeof d === "number" && d !== shape[i])) {
    throw new ArgumentError(`${where} expects ${describe(spec)}, got ${formatShape(shape)}`);
  }
  return { shape, data: spec.dtype === "f32" ? asF32(data) : asI32(data, where) };
}

/** The spec's shape with its symbolic dimensions solved from the data's length, or an error saying why they cannot be. */
function inferShape(spec: TensorSpec, length: number, where: string): number[] {
  const symbolic = spec.shape.filter((d) => typeof d !== "number");
  const known = spec.shape.reduce<number>((a, d) => a * (typeof d === "number" ? d : 1), 1);
  if (symbolic.length > 1) throw new ArgumentError(`${where} is ${describe(spec)}: pass { shape, data }, its shape cannot be inferred from the data alone`);
  if (symbolic.length === 0) {
    if (length !== known) throw new ArgumentError(`${where} expects ${describe(spec)}, got ${length} values`);
    return spec.shape as number[];
  }
  if (known === 0 || length % known !== 0) throw new ArgumentError(`${where} expects ${describe(spec)}: ${length} values are not a whole number of rows of ${known}`);
  return spec.shape.map((d) => (typeof d === "number" ? d : length / known));
}

const isData = (v: unknown): v is TensorData => v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || (Array.isArray(v) && v.every((x) => typeof x === "number"));

function asF32(data: TensorData): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

function asI32(data: TensorData, where: string): Int32Array {
  if (data instanceof Int32Array) return data;
  const bad = Array.prototype.findIndex.call(data, (v: number) => !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31);
  if (bad >= 0) throw new ArgumentError(`${where} is i32: element ${bad} is ${data[bad]}, not an integer`);
  return Int32Array.from(data);
}

export function describe(spec: { dtype: string; shape: readonly Dim[] }): string {
  return `${spec.dtype}${formatShape(spec.shape)}`;
}

/** A backend's output, copied (a backend may reuse its buffers on the next call). */
export function fromNDArray(a: NDArray, dtype: "f32" | "i32"): Tensor {
  const data = dtype === "i32" ? Int32Array.from(a.data) : a.data instanceof Float32Array ? a.data.slice() : Float32Array.from(a.data);
  return { shape: [...a.shape], dtype, data };
}
