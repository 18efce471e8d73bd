// Dense row-major arrays for the CPU interpreter. "f32" tensors are stored in
// Float32Array for training, or in Float64Array when the interpreter runs as
// the float64 reference evaluator that checks gradients; "i32" in Int32Array.

import type { DType } from "../program/ops.js";

export type Precision = "f32" | "f64";
export type FloatArray = Float32Array | Float64Array;
export type Data = FloatArray | Int32Array;

export interface NDArray {
  readonly shape: readonly number[];
  readonly data: Data;
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function alloc(shape: readonly number[], dtype: DType, precision: Precision): NDArray {
  const n = size(shape);
  const data = dtype === "i32" ? new Int32Array(n) : precision === "f64" ? new Float64Array(n) : new Float32Array(n);
  return { shape, data };
}

export function ndarray(shape: readonly number[], data: Data): NDArray {
  if (data.length !== size(shape)) throw new Error(`an array of shape [${shape.join(", ")}] needs ${size(shape)} elements, got ${data.length}`);
  return { shape, data };
}
