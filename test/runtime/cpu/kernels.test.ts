// The optimized CPU kernels against reference loops written from the
// definitions, in float64, on random inputs of awkward shapes: sizes of 1,
// primes, sizes that are not multiples of the blocks and that cross block
// boundaries, every layout, stride and padding. Each kernel runs in
// Float64Array (the reference evaluator's precision: within 1e-12 of the
// magnitude of the terms summed, since summation order may differ) and in
// Float32Array (within 1e-5). Outputs start as NaN, so an element a kernel
// forgets to write fails.

import test, { type ExecutionContext } from "ava";
import { conv2d, conv2dFilterGrad, conv2dInputGrad } from "../../../runtime/cpu/kernels/conv.js";
import { matmul } from "../../../runtime/cpu/kernels/matmul.js";
import { MOVEMENT_KERNELS } from "../../../runtime/cpu/kernels/movement.js";
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from "../../../runtime/cpu/kernels/pool.js";
import { REDUCE_KERNELS } from "../../../runtime/cpu/kernels/reduce.js";
import type { Kernel } from "../../../runtime/cpu/kernels/types.js";
import { size, strides, type FloatArray, type NDArray, type Precision } from "../../../runtime/cpu/ndarray.js";
import type { ConvAttrs, Pads, Pair, WindowAttrs } from "../../../runtime/program/ops.js";
import { Random } from "../../../runtime/random.js";
import { LAYOUTS } from "../../helpers/products.js";

// ---- helpers ------------------------------------------------------------------

/** Uniform draws in [0, 1) from the runtime's seeded generator, so failures reproduce. */
function rng(seed: number): () => number {
  const r = new Random(seed);
  return () => r.uniform();
}

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const PRECISIONS: readonly Precision[] = ["f64", "f32"];
const TOLERANCE: { readonly [P in Precision]: number } = { f64: 1e-12, f32: 1e-5 };

function floatArray(n: number, precision: Precision): FloatArray {
  return precision === "f64" ? new Float64Array(n) : new Float32Array(n);
}

/** Uniform in [-1, 1), or small integers (which tie) when `levels` is given. */
function random(shape: readonly number[], precision: Precision, r: Rng, levels?: number): NDArray {
  const data = floatArray(size(shape), precision);
  for (let i = 0; i < data.length; i++) data[i] = levels === undefined ? r() * 2 - 1 : Math.floor(r() * levels);
  return { shape, data };
}

/** An output buffer full of NaN, so that unwritten elements fail. */
function unwritten(shape: readonly number[], precision: Precision): NDArray {
  return { shape, data: floatArray(size(shape), precision).fill(NaN) };
}

/** A float64 reference: the exact value and the sum of the magnitudes of its terms (the scale of rounding error). */
interface Reference {
  readonly value: Float64Array;
  readonly magnitude: Float64Array;
}

function reference(n: number): Reference {
  return { value: new Float64Array(n), magnitude: new Float64Array(n) };
}

/** |got − expected| ≤ tol · magnitude everywhere (so exact where the magnitude is 0). */
function close(t: ExecutionContext, got: NDArray, expected: Reference, tol: number, what: string): void {
  const g = got.data;
  t.is(g.length, expected.value.length, `${what}: length`);
  for (let i = 0; i < g.length; i++) {
    const e = expected.value[i]!;
    const err = Math.abs(g[i]! - e);
    if (!(err <= tol * expected.magnitude[i]!) && !(Number.isNaN(e) && Number.isNaN(g[i]!))) {
      t.fail(`${what}: element ${i} is ${g[i]}, expected ${e} (error ${err}, allowed ${tol * expected.magnitude[i]!})`);
      return;
    }
  }
  t.pass();
}

function exact(t: ExecutionContext, got: NDArray, expected: ArrayLike<number>, what: string): void {
  t.deepEqual(Array.from(got.data), Array.from(expected), what);
}

// ---- matmul -------------------------------------------------------------------

function referenceMatmul(a: NDArray, b: NDArray, batch: readonly number[], m: number, n: number, k: number, transA: boolean, transB: boolean): Reference {
  const batches = size(batch);
  const ref = reference(batches * m * n);
  for (let t = 0; t < batches; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let mag = 0;
        for (let p = 0; p < k; p++) {
          const av = a.data[t * m * k + (transA ? p * m + i : i * k + p)]!;
          const bv = b.data[t * k * n + (transB ? j * k + p : p * n + j)]!;
          s += av * bv;
          mag += Math.abs(av * bv);
        }
        ref.value[(t * m + i) * n + j] = s;
        ref.magnitude[(t * m + i) * n + j] = mag;
      }
    }
  }
  return ref;
}


function checkMatmul(t: ExecutionContext, r: Rng, batch: readonly number[], m: number, n: number, k: number): void {
  for (const precision of PRECISIONS) {
    for (const [transA, transB] of LAYOUTS) {
      const a = random([...batch, ...(transA ? [k, m] : [m, k])], precision, r);
      const b = random([...batch, ...(transB ? [n, k] : [k, n])], precision, r);
      const aCopy = a.data.slice();
      const out = unwritten([...batch, m, n], precision);
      matmul(out, [a, b], { transA, transB }, {});
      close(t, out, referenceMatmul(a, b, batch, m, n, k, transA, transB), TOLERANCE[precision], `matmul ${precision} [${batch}] ${m}x${k}x${n} transA=${transA} transB=${transB}`);
      t.deepEqual(a.data, aCopy, "matmul leaves its operands alone");
    }
  }
}

test("matmul matches the reference on small and odd shapes, every layout", (t) => {
  const r = rng(1);
  const dims = [1, 2, 3, 4, 5, 7, 8, 13, 17];
  for (let trial = 0; trial < 40; trial++) {
    const batch = pick(r, [[], [], [1], [3], [2, 2]]);
    checkMatmul(t, r, batch, pick(r, dims), pick(r, dims), pick(r, dims));
  }
});

test("matmul matches the reference across block boundaries (rows, columns and depth split into several blocks)", (t) => {
  const r = rng(2);
  checkMatmul(t, r, [], 67, 515, 263); // 2 row blocks, 2 column blocks, 2 depth blocks, all with ragged edges
  checkMatmul(t, r, [2], 131, 9, 521);
  checkMatmul(t, r, [], 1, 600, 1);
  checkMatmul(t, r, [], 600, 1, 3);
});

test("matmul with an empty contraction writes zeros", (t) => {
  for (const precision of PRECISIONS) {
    const out = unwritten([3, 5], precision);
    matmul(out, [{ shape: [3, 0], data: floatArray(0, precision) }, { shape: [0, 5], data: floatArray(0, precision) }], { transA: false, transB: false }, {});
    exact(t, out, new Array(15).fill(0), `${precision}`);
  }
});

// ---- convolution --------------------------------------------------------------

interface ConvCase {
  readonly x: readonly [number, number, number, number];
  /** [kh, kw, in / groups, out] */
  readonly k: readonly [number, number, number, number];
  readonly stride: Pair;
  readonly pad: Pads;
  readonly dilation?: Pair;
  readonly groups?: number;
}

const attrsOf = (cs: ConvCase): ConvAttrs => ({ stride: cs.stride, pad: cs.pad, dilation: cs.dilation ?? [1, 1], groups: cs.groups ?? 1 });

function outputShape(cs: ConvCase): [number, number, number, number] {
  const { x, k } = cs;
  const { stride, pad, dilation } = attrsOf(cs);
  const span = (i: 0 | 1) => (k[i] - 1) * dilation[i] + 1;
  return [x[0], Math.floor((x[1] + pad[0] + pad[1] - span(0)) / stride[0]) + 1, Math.floor((x[2] + pad[2] + pad[3] - span(1)) / stride[1]) + 1, k[3]];
}

/**
 * The three convolution products from their one definition, per group g of G:
 * y[n, oy, ox, o] = Σ x[n, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw, g·cg + ci] · k[ky, kx, ci, o]
 * for o in group g (o / (out / G) = g) and ci < cg = in / G.
 */
function referenceConv(cs: ConvCase, x: NDArray, k: NDArray, dy: NDArray): { y: Reference; dx: Reference; dk: Reference } {
  const [n, h, w, c] = cs.x;
  const [kh, kw, cg, o] = cs.k;
  const { stride, pad, dilation, groups } = attrsOf(cs);
  const og = o / groups;
  const [, oh, ow] = outputShape(cs);
  const y = reference(size(dy.shape));
  const dx = reference(size(x.shape));
  const dk = reference(size(k.shape));
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * stride[0] - pad[0] + ky * dilation[0];
            const ix = ox * stride[1] - pad[2] + kx * dilation[1];
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let oc = 0; oc < o; oc++) {
              const g = Math.floor(oc / og);
              for (let ci = 0; ci < cg; ci++) {
                const xi = ((b * h + iy) * w + ix) * c + g * cg + ci;
                const yi = ((b * oh + oy) * ow + ox) * o + oc;
                const ki = ((ky * kw + kx) * cg + ci) * o + oc;
                const xy = x.data[xi]! * k.data[ki]!;
                y.value[yi]! += xy;
                y.magnitude[yi]! += Math.abs(xy);
                const dyk = dy.data[yi]! * k.data[ki]!;
                dx.value[xi]! += dyk;
                dx.magnitude[xi]! += Math.abs(dyk);
                const xdy = x.data[xi]! * dy.data[yi]!;
                dk.value[ki]! += xdy;
                dk.magnitude[ki]! += Math.abs(xdy);
              }
            }
          }
        }
      }
    }
  }
  return { y, dx, dk };
}

function checkConv(t: ExecutionContext, r: Rng, cs: ConvCase): void {
  const yShape = outputShape(cs);
  const attrs = attrsOf(cs);
  const what = `x [${cs.x}] k [${cs.k}] stride [${cs.stride}] pad [${cs.pad}] dilation [${attrs.dilation}] groups ${attrs.groups}`;
  for (const precision of PRECISIONS) {
    const x = random(cs.x, precision, r);
    const k = random(cs.k, precision, r);
    const dy = random(yShape, precision, r);
    const ref = referenceConv(cs, x, k, dy);
    const tol = TOLERANCE[precision];
    const y = unwritten(yShape, precision);
    conv2d(y, [x, k], attrs, {});
    close(t, y, ref.y, tol, `conv2d ${precision} ${what}`);
    const dx = unwritten(cs.x, precision);
    conv2dInputGrad(dx, [dy, k], { ...attrs, inputSize: [cs.x[1], cs.x[2]] }, {});
    close(t, dx, ref.dx, tol, `conv2dInputGrad ${precision} ${what}`);
    const dk = unwritten(cs.k, precision);
    conv2dFilterGrad(dk, [x, dy], { ...attrs, kernelSize: [cs.k[0], cs.k[1]] }, {});
    close(t, dk, ref.dk, tol, `conv2dFilterGrad ${precision} ${what}`);
  }
}

/** Random geometries: sizes of 1 and primes, every stride and padding; `grouped` adds dilations and groups. */
function randomConvs(t: ExecutionContext, seed: number, count: number, grouped: boolean): void {
  const r = rng(seed);
  let checked = 0;
  while (checked < count) {
    const kh = pick(r, [1, 2, 3, 5]);
    const kw = pick(r, [1, 2, 3]);
    const groups = grouped ? pick(r, [1, 2, 3, 5]) : 1;
    const cg = pick(r, [1, 1, 2, 3]);
    const cs: ConvCase = {
      x: [pick(r, [1, 2, 3]), pick(r, [1, 2, 5, 7, 9]), pick(r, [1, 3, 4, 8]), grouped ? groups * cg : pick(r, [1, 2, 3, 5, 8])],
      k: [kh, kw, 0, (grouped ? groups : 1) * pick(r, [1, 2, 3, 5, 7])],
      stride: [pick(r, [1, 1, 2, 3]), pick(r, [1, 1, 2])],
      pad: [pick(r, [0, 1, 2]), pick(r, [0, 1, 3]), pick(r, [0, 1, 2]), pick(r, [0, 1])],
      ...(grouped ? { dilation: [pick(r, [1, 2, 3]), pick(r, [1, 2])] as Pair, groups } : {}),
    };
    const full: ConvCase = { ...cs, k: [kh, kw, cs.x[3] / groups, cs.k[3]] };
    const [, oh, ow] = outputShape(full);
    if (oh < 1 || ow < 1) continue;
    checkConv(t, r, full);
    checked++;
  }
}

test("conv2d and both gradients match the reference for random geometries, strides and paddings", (t) => {
  randomConvs(t, 3, 60, false);
});

test("grouped and dilated conv2d and both gradients match the reference for random geometries", (t) => {
  randomConvs(t, 5, 80, true);
});

test("conv2d and both gradients match the reference at the CNN's shapes and across block boundaries", (t) => {
  const r = rng(4);
  const same: Pads = [1, 1, 1, 1];
  checkConv(t, r, { x: [1, 28, 28, 1], k: [3, 3, 1, 16], stride: [1, 1], pad: same });
  checkConv(t, r, { x: [2, 14, 14, 16], k: [3, 3, 16, 32], stride: [1, 1], pad: same });
  // A patch depth of 3·3·30 = 270 and an input-gradient depth of 3·3·31 = 279 (two depth blocks); 2·13·13 = 338 positions.
  checkConv(t, r, { x: [2, 13, 13, 30], k: [3, 3, 30, 31], stride: [1, 1], pad: same });
  checkConv(t, r, { x: [1, 11, 10, 6], k: [3, 2, 6, 5], stride: [2, 3], pad: [0, 2, 1, 0] });
});

test("depthwise, grouped and dilated conv2d at larger shapes: channel multipliers, many groups, block boundaries", (t) => {
  const r = rng(6);
  // Depthwise: 16 groups of one channel, a multiplier of 1 and of 3.
  checkConv(t, r, { x: [2, 14, 13, 16], k: [3, 3, 1, 16], stride: [1, 1], pad: [2, 2, 2, 2], dilation: [2, 2], groups: 16 });
  checkConv(t, r, { x: [1, 9, 11, 7], k: [3, 3, 1, 21], stride: [2, 1], pad: [1, 1, 1, 1], groups: 7 });
  // Groups of 30 channels over 270-deep patches; a dilation that skips the middle of a 17-wide row.
  checkConv(t, r, { x: [2, 13, 13, 60], k: [3, 3, 30, 62], stride: [1, 1], pad: [1, 1, 1, 1], groups: 2 });
  checkConv(t, r, { x: [1, 5, 17, 4], k: [2, 3, 2, 6], stride: [1, 2], pad: [0, 1, 0, 0], dilation: [3, 7], groups: 2 });
});

// ---- pooling ------------------------------------------------------------------

/** The in-bounds cells (flat offsets of channel 0) of window (b, oy, ox), in row-major window order. */
function windowCells(shape: readonly number[], a: WindowAttrs, b: number, oy: number, ox: number): number[] {
  const [, h, w, c] = shape as [number, number, number, number];
  const cells: number[] = [];
  for (let ky = 0; ky < a.size[0]; ky++) {
    for (let kx = 0; kx < a.size[1]; kx++) {
      const iy = oy * a.stride[0] - a.pad[0] + ky;
      const ix = ox * a.stride[1] - a.pad[2] + kx;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) cells.push(((b * h + iy) * w + ix) * c);
    }
  }
  return cells;
}

function pooledShape(shape: readonly number[], a: WindowAttrs): [number, number, number, number] {
  return [shape[0]!, Math.floor((shape[1]! + a.pad[0] + a.pad[1] - a.size[0]) / a.stride[0]) + 1, Math.floor((shape[2]! + a.pad[2] + a.pad[3] - a.size[1]) / a.stride[1]) + 1, shape[3]!];
}

/** Reference pools: max (NaN wins), the first maximal cell's gradient, average over in-bounds cells and its gradient. */
function referencePools(x: NDArray, dy: NDArray, a: WindowAttrs): { max: Reference; maxGrad: Reference; avg: Reference; avgGrad: Reference } {
  const [n, oh, ow, c] = dy.shape as [number, number, number, number];
  const max = reference(size(dy.shape));
  const avg = reference(size(dy.shape));
  const maxGrad = reference(size(x.shape));
  const avgGrad = reference(size(x.shape));
  let yi = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const cells = windowCells(x.shape, a, b, oy, ox);
        for (let ch = 0; ch < c; ch++, yi++) {
          const values = cells.map((cell) => x.data[cell + ch]!);
          const nan = values.findIndex(Number.isNaN);
          const winner = nan >= 0 ? nan : values.indexOf(Math.max(...values));
          max.value[yi] = values[winner]!;
          maxGrad.value[cells[winner]! + ch]! += dy.data[yi]!;
          maxGrad.magnitude[cells[winner]! + ch]! += Math.abs(dy.data[yi]!);
          avg.value[yi] = values.reduce((s, v) => s + v, 0) / values.length;
          avg.magnitude[yi] = values.reduce((s, v) => s + Math.abs(v), 0) / values.length;
          for (const cell of cells) {
            avgGrad.value[cell + ch]! += dy.data[yi]! / cells.length;
            avgGrad.magnitude[cell + ch]! += Math.abs(dy.data[yi]!) / cells.length;
          }
        }
      }
    }
  }
  return { max, maxGrad, avg, avgGrad };
}

function checkPools(t: ExecutionContext, x: NDArray, a: WindowAttrs, r: Rng, what: string): void {
  const precision: Precision = x.data instanceof Float64Array ? "f64" : "f32";
  const yShape = pooledShape(x.shape, a);
  const dy = random(yShape, precision, r);
  const ref = referencePools(x, dy, a);
  const tol = TOLERANCE[precision];
  const y = unwritten(yShape, precision);
  maxPool2d(y, [x], a, {});
  close(t, y, ref.max, 0, `maxPool2d ${what}`);
  const dx = unwritten(x.shape, precision);
  maxPool2dGrad(dx, [x, dy], a, {});
  close(t, dx, ref.maxGrad, tol, `maxPool2dGrad ${what}`);
  avgPool2d(y, [x], a, {});
  close(t, y, ref.avg, tol, `avgPool2d ${what}`);
  avgPool2dGrad(dx, [dy], { ...a, inputSize: [x.shape[1]!, x.shape[2]!] }, {});
  close(t, dx, ref.avgGrad, tol, `avgPool2dGrad ${what}`);
}

test("pools match the reference for random windows, strides and paddings, with many ties", (t) => {
  const r = rng(5);
  let checked = 0;
  while (checked < 80) {
    const sz: Pair = [pick(r, [1, 2, 3]), pick(r, [1, 2, 3])];
    // The shape rules keep padding below the window size.
    const pad: Pads = [Math.floor(r() * sz[0]), Math.floor(r() * sz[0]), Math.floor(r() * sz[1]), Math.floor(r() * sz[1])];
    const a: WindowAttrs = { size: sz, stride: [pick(r, [1, 2, 3]), pick(r, [1, 2])], pad };
    const shape = [pick(r, [1, 2]), pick(r, [1, 2, 3, 5, 8]), pick(r, [1, 2, 4, 7]), pick(r, [1, 2, 3, 16])];
    const [, oh, ow] = pooledShape(shape, a);
    if (oh < 1 || ow < 1) continue;
    for (const precision of PRECISIONS) {
      // Three levels make ties common; negative values check that padding never wins a max.
      const x = random(shape, precision, r, 3);
      for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i]! - 5;
      checkPools(t, x, a, r, `${precision} [${shape}] size [${sz}] stride [${a.stride}] pad [${pad}]`);
      checkPools(t, random(shape, precision, r), a, r, `${precision} continuous [${shape}] size [${sz}] stride [${a.stride}] pad [${pad}]`);
    }
    checked++;
  }
});

test("pools at the CNN's shapes", (t) => {
  const r = rng(6);
  const a: WindowAttrs = { size: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] };
  for (const precision of PRECISIONS) {
    checkPools(t, random([2, 28, 28, 16], precision, r), a, r, `${precision} conv1`);
    checkPools(t, random([2, 14, 14, 32], precision, r, 4), a, r, `${precision} conv2, tied`);
  }
});

const window2x2: WindowAttrs = { size: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] };

test("maxPool2dGrad sends a tied window's gradient to its first maximal cell in row-major order", (t) => {
  for (const precision of PRECISIONS) {
    const data = floatArray(4, precision);
    const grad = (values: number[]): number[] => {
      data.set(values);
      const dx = unwritten([1, 2, 2, 1], precision);
      maxPool2dGrad(dx, [{ shape: [1, 2, 2, 1], data }, { shape: [1, 1, 1, 1], data: floatArray(1, precision).fill(3) }], window2x2, {});
      return Array.from(dx.data);
    };
    t.deepEqual(grad([1, 1, 1, 1]), [3, 0, 0, 0]);
    t.deepEqual(grad([0, 2, 1, 2]), [0, 3, 0, 0]);
    t.deepEqual(grad([0, 1, 2, 2]), [0, 0, 3, 0]);
    t.deepEqual(grad([-Infinity, -Infinity, -Infinity, -Infinity]), [3, 0, 0, 0]);
  }
});

test("padding never wins a max and is not counted in an average", (t) => {
  // One 1x1 input, padded to a 3x3 window on every side.
  const a: WindowAttrs = { size: [3, 3], stride: [1, 1], pad: [1, 1, 1, 1] };
  for (const precision of PRECISIONS) {
    const x: NDArray = { shape: [1, 1, 1, 1], data: floatArray(1, precision).fill(-2) };
    const y = unwritten([1, 1, 1, 1], precision);
    maxPool2d(y, [x], a, {});
    exact(t, y, [-2], "max");
    avgPool2d(y, [x], a, {});
    exact(t, y, [-2], "average");
    const dx = unwritten([1, 1, 1, 1], precision);
    avgPool2dGrad(dx, [{ shape: [1, 1, 1, 1], data: floatArray(1, precision).fill(6) }], { ...a, inputSize: [1, 1] }, {});
    exact(t, dx, [6], "average gradient");
  }
});

test("a NaN in a max window propagates, and the window's gradient goes to the first NaN", (t) => {
  const x: NDArray = { shape: [1, 2, 2, 2], data: new Float64Array([1, 5, NaN, 7, 9, NaN, 2, NaN]) };
  const y = unwritten([1, 1, 1, 2], "f64");
  maxPool2d(y, [x], window2x2, {});
  t.true(Number.isNaN(y.data[0]!) && Number.isNaN(y.data[1]!));
  const dx = unwritten([1, 2, 2, 2], "f64");
  maxPool2dGrad(dx, [x, { shape: [1, 1, 1, 2], data: new Float64Array([10, 20]) }], window2x2, {});
  exact(t, dx, [0, 0, 10, 0, 0, 20, 0, 0], "gradients");
});

// ---- reductions and strided walks ---------------------------------------------

/** Row-major index of every flat position. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return idx;
}

function referenceReduce(x: NDArray, axes: readonly number[], kind: "sum" | "max"): Reference {
  const outShape = x.shape.filter((_, a) => !axes.includes(a));
  const os = strides(outShape);
  const ref = reference(size(outShape));
  ref.value.fill(kind === "sum" ? 0 : -Infinity);
  for (let i = 0; i < x.data.length; i++) {
    const kept = unravel(i, x.shape).filter((_, a) => !axes.includes(a));
    const o = kept.reduce((s, v, a) => s + v * os[a]!, 0);
    const v = x.data[i]!;
    if (kind === "sum") {
      ref.value[o]! += v;
      ref.magnitude[o]! += Math.abs(v);
    } else if (Number.isNaN(v) || v > ref.value[o]!) ref.value[o] = v;
  }
  return ref;
}

function randomShape(r: Rng): number[] {
  return Array.from({ length: pick(r, [0, 1, 2, 3, 4]) }, () => pick(r, [1, 1, 2, 3, 5, 7]));
}

test("sum and max over every subset of axes match the reference; max propagates NaN", (t) => {
  const r = rng(7);
  const shapes = [...Array.from({ length: 40 }, () => randomShape(r)), [128, 256], [128, 10], [4, 28, 28, 16]];
  for (const shape of shapes) {
    for (let mask = 0; mask < 1 << shape.length; mask++) {
      const axes = shape.map((_, a) => a).filter((a) => mask & (1 << a));
      const outShape = shape.filter((_, a) => !axes.includes(a));
      for (const precision of PRECISIONS) {
        const x = random(shape, precision, r);
        if (x.data.length > 3 && r() < 0.3) x.data[Math.floor(r() * x.data.length)] = NaN;
        for (const kind of ["sum", "max"] as const) {
          const out = unwritten(outShape, precision);
          (REDUCE_KERNELS[kind] as Kernel<"sum" | "max">)(out, [x], { axes }, {});
          close(t, out, referenceReduce(x, axes, kind), kind === "sum" ? TOLERANCE[precision] : 0, `${kind} ${precision} [${shape}] axes [${axes}]`);
        }
      }
    }
  }
});

test("argmax matches the reference on every axis and picks the first of tied maxima", (t) => {
  const r = rng(8);
  for (const shape of [...Array.from({ length: 30 }, () => randomShape(r)).filter((s) => s.length > 0), [128, 10]]) {
    for (let axis = 0; axis < shape.length; axis++) {
      const x = random(shape, "f64", r, 3);
      const outShape = shape.filter((_, a) => a !== axis);
      const out: NDArray = { shape: outShape, data: new Int32Array(size(outShape)).fill(-1) };
      (REDUCE_KERNELS.argmax as Kernel<"argmax">)(out, [x], { axis }, {});
      const expected = new Array<number>(size(outShape)).fill(-1);
      const best = new Array<number>(size(outShape)).fill(-Infinity);
      const os = strides(outShape);
      for (let i = 0; i < x.data.length; i++) {
        const idx = unravel(i, shape);
        const o = idx.filter((_, a) => a !== axis).reduce((s, v, a) => s + v * os[a]!, 0);
        if (x.data[i]! > best[o]!) {
          best[o] = x.data[i]!;
          expected[o] = idx[axis]!;
        }
      }
      exact(t, out, expected, `argmax [${shape}] axis ${axis}`);
    }
  }
});

test("transpose and broadcast (the strided gather) match the reference", (t) => {
  const r = rng(9);
  for (let trial = 0; trial < 60; trial++) {
    const shape = randomShape(r);
    const x = random(shape, "f64", r);
    // A random permutation.
    const perm = shape.map((_, a) => a);
    for (let a = perm.length - 1; a > 0; a--) {
      const b = Math.floor(r() * (a + 1));
      [perm[a], perm[b]] = [perm[b]!, perm[a]!];
    }
    const tShape = perm.map((p) => shape[p]!);
    const out = unwritten(tShape, "f64");
    (MOVEMENT_KERNELS.transpose as Kernel<"transpose">)(out, [x], { perm }, {});
    const xs = strides(shape);
    exact(t, out, Array.from({ length: size(tShape) }, (_, i) => x.data[unravel(i, tShape).reduce((s, v, a) => s + v * xs[perm[a]!]!, 0)]!), `transpose [${shape}] by [${perm}]`);
    // Broadcast into a new leading axis and along the size-1 axes.
    const bShape = [pick(r, [1, 2, 3]), ...shape.map((d) => (d === 1 ? pick(r, [1, 4]) : d))];
    const dims = shape.map((_, a) => a + 1);
    const bOut = unwritten(bShape, "f64");
    (MOVEMENT_KERNELS.broadcast as Kernel<"broadcast">)(bOut, [x], { shape: bShape, dims }, {});
    const expected = Array.from({ length: size(bShape) }, (_, i) => {
      const idx = unravel(i, bShape).slice(1);
      return x.data[idx.reduce((s, v, a) => s + (shape[a] === 1 ? 0 : v) * xs[a]!, 0)]!;
    });
    exact(t, bOut, expected, `broadcast [${shape}] to [${bShape}]`);
  }
});

test("max of i32 values starts from the least i32, not from -Infinity (which an Int32Array stores as 0)", (t) => {
  const out = { shape: [2], data: new Int32Array(2) };
  (REDUCE_KERNELS.max as Kernel<"max">)(out, [{ shape: [2, 3], data: Int32Array.of(-5, -3, -7, 4, -1, 2) }], { axes: [1] }, {});
  t.deepEqual([...out.data], [-3, 4]);
});
