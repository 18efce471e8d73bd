// Rows into batches: the train/test split, the per-epoch shuffle, and the
// gathering of shuffled rows into contiguous batch buffers.
//
// Both random choices are seeded, each from its own Random stream, so a run is
// reproducible from its seed alone and the split never changes when, say, the
// number of epochs does. An epoch's order depends on (seed, epoch) only, so a
// run resumed at epoch k shuffles exactly as the uninterrupted run did.

import { Random } from "../random.js";
import { DataError, type Dataset } from "./types.js";

/** Random stream of the train/test split. */
export const SPLIT_STREAM = 0x5011d;
/** Random stream of the per-epoch shuffles (the epoch is mixed into the seed). */
export const SHUFFLE_STREAM = 0x5e9f1e;

/** Seeded split of rows 0..rows-1: round(rows * fraction) test rows, both sides in ascending order. */
export function splitRows(rows: number, fraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new DataError(`test fraction ${fraction} is out of range; expected a number between 0 and 1, exclusive`);
  }
  const testRows = Math.round(rows * fraction);
  if (testRows === 0 || testRows === rows) {
    throw new DataError(
      `test fraction ${fraction} of ${rows} rows leaves ${testRows === 0 ? "no test" : "no training"} rows; expected both splits non-empty`,
    );
  }
  const order = new Random(seed, SPLIT_STREAM).permutation(rows);
  return { train: order.slice(testRows).sort(), test: order.slice(0, testRows).sort() };
}

/** `rows` in a seeded random order, different for each epoch and the same for the same (seed, epoch). */
export function epochOrder(rows: Uint32Array, seed: number, epoch: number): Uint32Array {
  const epochSeed = (seed + Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
  const permutation = new Random(epochSeed, SHUFFLE_STREAM).permutation(rows.length);
  const out = new Uint32Array(rows.length);
  for (let i = 0; i < out.length; i++) out[i] = rows[permutation[i]!]!;
  return out;
}

export interface Batch {
  /** Rows in this batch: the batch size, or fewer for the last one. */
  readonly size: number;
  /** Per input: `size` rows, row-major, in the order drawn. */
  readonly inputs: ReadonlyMap<string, Float32Array | Int32Array>;
}

/** Reused batch objects, per data set and batch size (see batches()). */
const batchCache = new WeakMap<Dataset, Map<number, Batch>>();

/**
 * The rows of `ds` in `order`, `batchSize` at a time; the last, smaller batch
 * is yielded unless `dropLast`.
 *
 * The buffers are allocated once per (data set, input, batch size) and reused
 * by every later batch of that size, from this call and later calls on the same
 * data set: a yielded batch is only valid until the next one is drawn. Copy it
 * to keep it.
 */
export function* batches(ds: Dataset, order: Uint32Array, batchSize: number, dropLast: boolean): Generator<Batch> {
  if (!Number.isSafeInteger(batchSize) || batchSize <= 0) {
    throw new DataError(`batch size ${batchSize} is invalid; expected a positive integer`);
  }
  checkRowIndices(ds, order);
  const end = dropLast ? order.length - (order.length % batchSize) : order.length;
  for (let start = 0; start < end; start += batchSize) {
    const size = Math.min(batchSize, end - start);
    const batch = batchBuffers(ds, size);
    for (const [name, input] of ds.inputs) {
      const src = input.data;
      const dst = batch.inputs.get(name)!;
      const width = input.width;
      if (width === 1) {
        for (let i = 0; i < size; i++) dst[i] = src[order[start + i]!]!;
      } else {
        for (let i = 0; i < size; i++) {
          const row = order[start + i]! * width;
          dst.set(src.subarray(row, row + width), i * width);
        }
      }
    }
    yield batch;
  }
}

/** Throws unless every index in `rows` is a row of `ds`. */
export function checkRowIndices(ds: Dataset, rows: Uint32Array): void {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i]! >= ds.rows) {
      throw new DataError(`${ds.file}: row index ${rows[i]} is out of range; expected indices below ${ds.rows}`);
    }
  }
}

function batchBuffers(ds: Dataset, size: number): Batch {
  let bySize = batchCache.get(ds);
  if (bySize === undefined) batchCache.set(ds, (bySize = new Map()));
  let batch = bySize.get(size);
  if (batch === undefined) {
    const inputs = new Map<string, Float32Array | Int32Array>();
    for (const [name, input] of ds.inputs) {
      const length = size * input.width;
      inputs.set(name, input.dtype === "f32" ? new Float32Array(length) : new Int32Array(length));
    }
    batch = { size, inputs };
    bySize.set(size, batch);
  }
  return batch;
}
