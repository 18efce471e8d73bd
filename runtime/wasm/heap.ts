// A WebAssembly memory seen from JavaScript as float arrays, and carved into
// regions for good: the CPU executable allocates one region per plan (its
// products' scratch and every buffer), so a plan's addresses never change and
// its kernels can hold them as constants. Growing a memory detaches its
// ArrayBuffer, so every view over it dies; the heap therefore grows only when
// a region needs it, and hands out views that are re-created only after the
// buffer has changed. Reading a view in a step allocates nothing.

import { PAGE_BYTES, type WasmMemory } from "./api.js";

export class Heap {
  /** The first byte no region has been allocated from. */
  private top = 0;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private floats: Float32Array;
  private ints: Int32Array;

  constructor(readonly memory: WasmMemory) {
    this.buffer = memory.buffer;
    this.floats = new Float32Array(this.buffer);
    this.ints = new Int32Array(this.buffer);
  }

  /** Bytes the memory holds now. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows the memory to hold at least `bytes` (it never shrinks). */
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength / PAGE_BYTES;
    const want = Math.ceil(bytes / PAGE_BYTES);
    if (want > have) this.memory.grow(want - have);
  }

  /** A region of `bytes` bytes for good (a plan's buffers): its 16-byte aligned address, the memory grown to hold it. */
  allocate(bytes: number): number {
    const at = align16(this.top);
    this.top = at + bytes;
    this.reserve(this.top);
    return at;
  }

  /** The whole memory as floats: float i is at byte 4i. */
  get f32(): Float32Array {
    this.refresh();
    return this.floats;
  }

  /** The whole memory as i32s: int i is at byte 4i. */
  get i32(): Int32Array {
    this.refresh();
    return this.ints;
  }

  private refresh(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.floats = new Float32Array(this.buffer);
      this.ints = new Int32Array(this.buffer);
    }
  }
}

/** `length` floats of a heap from byte `at` (a multiple of 4), as one Float32Array kept across steps. */
export class HeapView {
  private buffer: ArrayBuffer | SharedArrayBuffer | undefined;
  private view: Float32Array = new Float32Array(0);

  constructor(
    private readonly heap: Heap,
    readonly at: number,
    readonly length: number,
  ) {}

  get array(): Float32Array {
    const buffer = this.heap.memory.buffer;
    if (buffer !== this.buffer) {
      this.buffer = buffer;
      this.view = new Float32Array(buffer, this.at, this.length);
    }
    return this.view;
  }
}

/** Byte offsets of consecutive 16-byte-aligned regions of the given float counts after `start` bytes, and the end. */
export function regions(start: number, ...floats: readonly number[]): { readonly at: number[]; readonly end: number } {
  const at: number[] = [];
  let next = align16(start);
  for (const n of floats) {
    at.push(next);
    next = align16(next + 4 * n);
  }
  return { at, end: next };
}

export function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
