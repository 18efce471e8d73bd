// Typed arrays that grow row by row while a file streams in, so that a data
// set is never held as JS numbers or strings: 60000 x 784 pixels are 188 MB as
// a Float32Array and several GB as arrays of numbers. Capacity doubles (so
// appending is amortized O(1)) and the array is trimmed to its length at the
// end, which costs one copy but returns the slack to the allocator.

export type NumericArray = Float32Array | Int32Array;

export class GrowableRows {
  /** The backing array; replaced when it grows, so re-read it after reserve(). */
  data: NumericArray;
  /** Rows written so far. */
  rows = 0;

  constructor(
    readonly dtype: "f32" | "i32",
    readonly width: number,
    initialRows = 256,
  ) {
    this.data = this.allocate(Math.max(1, initialRows) * width);
  }

  /** Makes room for one more row and returns the index of its first element. */
  appendRow(): number {
    const start = this.rows * this.width;
    if (start + this.width > this.data.length) {
      const grown = this.allocate(Math.max(this.data.length * 2, start + this.width));
      grown.set(this.data.subarray(0, start));
      this.data = grown;
    }
    this.rows++;
    return start;
  }

  /** The rows written, in an array of exactly that length. */
  trimmed(): NumericArray {
    const length = this.rows * this.width;
    return length === this.data.length ? this.data : this.data.slice(0, length);
  }

  private allocate(length: number): NumericArray {
    return this.dtype === "f32" ? new Float32Array(length) : new Int32Array(length);
  }
}
