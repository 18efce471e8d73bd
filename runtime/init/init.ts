// Parameter initialization.
//
// A parameter's initial values depend only on (init, shape, seed, name): each
// parameter draws from its own Random stream, chosen by the run's seed and a
// stable 32-bit hash of its name (FNV-1a over the UTF-8 bytes). So adding,
// removing or reordering parameters never changes the others' values, and the
// CPU interpreter and WebGPU start from bit-identical weights.
//
// Fans are read off the shape: for [in, out] fanIn = in and fanOut = out; for a
// conv kernel [kh, kw, in, out] fanIn = kh*kw*in and fanOut = kh*kw*out; in
// general the receptive field is the product of all but the last two dims. A
// 1-D shape [n] has fanIn = fanOut = n, a scalar has fanIn = fanOut = 1.
//
// Kinds:
//   zeros
//   ones
//   const(value)
//   he       = normal(0, sqrt(2/fanIn))
//   glorot   = uniform(-l, l) with l = sqrt(6/(fanIn+fanOut))
//   lecun    = normal(0, sqrt(1/fanIn))
//   normal(std)
//   uniform(limit) = uniform(-limit, limit)
//
// Values are drawn in double precision and rounded to float32, in row-major
// order of the shape.

import type { Init } from "../program/ops.js";
import { Random } from "../random.js";

export interface Fans {
  readonly fanIn: number;
  readonly fanOut: number;
}

/** The fans of a parameter of this shape (see the file header). */
export function fans(shape: readonly number[]): Fans {
  const rank = shape.length;
  if (rank === 0) return { fanIn: 1, fanOut: 1 };
  if (rank === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  let receptive = 1;
  for (let i = 0; i < rank - 2; i++) receptive *= shape[i]!;
  return { fanIn: receptive * shape[rank - 2]!, fanOut: receptive * shape[rank - 1]! };
}

/** FNV-1a (32-bit) of the UTF-8 bytes of `name`: the per-parameter stream id. */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h;
}

/** The initial values of parameter `name`, a row-major tensor of `shape`. */
export function initialize(init: Init, shape: readonly number[], seed: number, name: string): Float32Array {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RangeError(`initialize ${JSON.stringify(name)}: shape [${shape.join(", ")}] must be non-negative integers`);
  }
  if (!Number.isInteger(seed)) {
    throw new RangeError(`initialize ${JSON.stringify(name)}: seed ${seed} must be an integer`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const { fanIn, fanOut } = fans(shape);
  const rng = new Random(seed, nameHash(name));
  const normal = (std: number) => {
    for (let i = 0; i < size; i++) out[i] = std * rng.normal();
  };
  const uniform = (limit: number) => {
    for (let i = 0; i < size; i++) out[i] = limit * (2 * rng.uniform() - 1);
  };
  const nonNegative = (what: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`initialize ${JSON.stringify(name)}: ${init.kind} ${what} ${v} must be finite and non-negative`);
    }
    return v;
  };

  switch (init.kind) {
    case "zeros": break;
    case "ones": out.fill(1); break;
    case "const": out.fill(init.value); break;
    case "he": normal(Math.sqrt(2 / fanIn)); break;
    case "glorot": uniform(Math.sqrt(6 / (fanIn + fanOut))); break;
    case "lecun": normal(Math.sqrt(1 / fanIn)); break;
    case "normal": normal(nonNegative("std", init.std)); break;
    case "uniform": uniform(nonNegative("limit", init.limit)); break;
    default: {
      const unknown: never = init;
      throw new Error(`initialize ${JSON.stringify(name)}: unknown init ${JSON.stringify(unknown)}`);
    }
  }
  return out;
}
