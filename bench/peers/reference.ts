// Plain-JavaScript float64 references of the workloads, for checking the peers
// on small inputs: the micro workloads, and the models' loss (forward only),
// which a training step returns for the parameters before its update.

import { ADAM, CLASSES, GELU_C, LAYERNORM_EPS, MODEL_PARAMS, PIXELS } from "./workloads.js";
import type { HostTensor, Micro, Model } from "./types.js";

const rows = (shape: readonly number[]): number => shape.slice(0, -1).reduce((a, b) => a * b, 1);

function gelu(x: Float32Array): Float64Array {
  return Float64Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v))));
}

function softmax(x: Float32Array, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, x[r * c + j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += out[r * c + j] = Math.exp(x[r * c + j]! - max);
    for (let j = 0; j < c; j++) out[r * c + j]! /= sum;
  }
  return out;
}

function layernorm(x: Float32Array, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let mean = 0;
    for (let j = 0; j < c; j++) mean += x[r * c + j]!;
    mean /= c;
    let variance = 0;
    for (let j = 0; j < c; j++) variance += (x[r * c + j]! - mean) ** 2;
    variance /= c;
    for (let j = 0; j < c; j++) out[r * c + j] = (x[r * c + j]! - mean) / Math.sqrt(variance + LAYERNORM_EPS);
  }
  return out;
}

/** a[m, k] @ b[k, n] + bias[n], then relu if asked. */
function dense(a: ArrayLike<number>, b: ArrayLike<number>, bias: ArrayLike<number>, m: number, k: number, n: number, relu: boolean): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = bias[j]!;
    for (let q = 0; q < k; q++) {
      const s = a[i * k + q]!;
      if (s === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += s * b[q * n + j]!;
    }
    if (relu) for (let j = 0; j < n; j++) out[i * n + j] = Math.max(out[i * n + j]!, 0);
  }
  return out;
}

function adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, t: number): Float64Array[] {
  const { lr, beta1: b1, beta2: b2, eps } = ADAM;
  const [p1, m1, v1] = [0, 1, 2].map(() => new Float64Array(p.length)) as [Float64Array, Float64Array, Float64Array];
  for (let i = 0; i < p.length; i++) {
    m1[i] = b1 * m[i]! + (1 - b1) * g[i]!;
    v1[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
    p1[i] = p[i]! - (lr * (m1[i]! / (1 - b1 ** t))) / (Math.sqrt(v1[i]! / (1 - b2 ** t)) + eps);
  }
  return [p1, m1, v1];
}

/** The workload's outputs on `inputs` (shapes and order as Peer.compute). */
export function referenceMicro(kind: Micro, inputs: readonly HostTensor[]): Float64Array[] {
  const [x, b, c, d, t] = inputs;
  const shape = x!.shape;
  switch (kind) {
    case "gelu":
      return [gelu(x!.data)];
    case "softmax":
      return [softmax(x!.data, rows(shape), shape.at(-1)!)];
    case "layernorm":
      return [layernorm(x!.data, rows(shape), shape.at(-1)!)];
    case "matmul":
      return [dense(x!.data, b!.data, new Float32Array(b!.shape[1]!), shape[0]!, shape[1]!, b!.shape[1]!, false)];
    case "matmul-bias-relu":
      return [dense(x!.data, b!.data, c!.data, shape[0]!, shape[1]!, b!.shape[1]!, true)];
    case "adam":
      return adam(x!.data, b!.data, c!.data, d!.data, t!.data[0]!);
  }
}

/** 3x3 "same" convolution, NHWC input, HWIO kernel, then bias and relu. */
function conv3x3(x: Float64Array, n: number, size: number, cin: number, k: Float32Array, bias: Float32Array, cout: number): Float64Array {
  const out = new Float64Array(n * size * size * cout);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++) {
        const o = ((b * size + i) * size + j) * cout;
        for (let co = 0; co < cout; co++) out[o + co] = bias[co]!;
        for (let di = 0; di < 3; di++) {
          const ii = i + di - 1;
          if (ii < 0 || ii >= size) continue;
          for (let dj = 0; dj < 3; dj++) {
            const jj = j + dj - 1;
            if (jj < 0 || jj >= size) continue;
            for (let ci = 0; ci < cin; ci++) {
              const s = x[((b * size + ii) * size + jj) * cin + ci]!;
              const kk = ((di * 3 + dj) * cin + ci) * cout;
              for (let co = 0; co < cout; co++) out[o + co] += s * k[kk + co]!;
            }
          }
        }
        for (let co = 0; co < cout; co++) out[o + co] = Math.max(out[o + co]!, 0);
      }
  return out;
}

function maxPool2(x: Float64Array, n: number, size: number, c: number): Float64Array {
  const half = size / 2;
  const out = new Float64Array(n * half * half * c).fill(-Infinity);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++)
        for (let ch = 0; ch < c; ch++) {
          const o = ((b * half + (i >> 1)) * half + (j >> 1)) * c + ch;
          out[o] = Math.max(out[o]!, x[((b * size + i) * size + j) * c + ch]!);
        }
  return out;
}

/** Mean softmax cross-entropy of the model (dlc's layouts) on one batch, in float64. */
export function referenceLoss(model: Model, params: Map<string, HostTensor>, x: Float32Array, y: Int32Array, batch: number): number {
  const w = (name: string) => params.get(name)!.data;
  const pixels = Float64Array.from(x.subarray(0, batch * PIXELS), (v) => v / 255);
  let logits: Float64Array;
  if (model === "mlp") {
    const [l0, l1, l2] = MODEL_PARAMS.mlp.filter((p) => p.name.endsWith(".w")).map((p) => p.shape);
    const h0 = dense(pixels, w("fc0.w"), w("fc0.b"), batch, l0![0]!, l0![1]!, true);
    const h1 = dense(h0, w("fc1.w"), w("fc1.b"), batch, l1![0]!, l1![1]!, true);
    logits = dense(h1, w("out.w"), w("out.b"), batch, l2![0]!, l2![1]!, false);
  } else {
    let h = maxPool2(conv3x3(pixels, batch, 28, 1, w("conv1.k"), w("conv1.b"), 16), batch, 28, 16);
    h = maxPool2(conv3x3(h, batch, 14, 16, w("conv2.k"), w("conv2.b"), 32), batch, 14, 32);
    logits = dense(h, w("out.w"), w("out.b"), batch, 7 * 7 * 32, CLASSES, false);
  }
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const row = logits.subarray(b * CLASSES, (b + 1) * CLASSES);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += lse - row[y[b]!]!;
  }
  return total / batch;
}
