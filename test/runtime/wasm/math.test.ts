// The f32x4 transcendental emitters (runtime/wasm/math.ts) against the ops'
// reference semantics: the JavaScript formula of each op in runtime/program/
// elementwise.ts, evaluated in float64 and rounded to f32. Each function runs
// in a module that applies it to a buffer four lanes at a time, over
//   (a) dense sweeps of its interesting range: evenly spaced values, and
//       values evenly spaced in ulps (every binade alike, denormals included);
//   (b) random values: random bit patterns (every f32: denormals, ±Inf, NaN)
//       and uniform draws over wide ranges;
// and the largest error in ulps (the distance between the f32 bit patterns,
// ±0 alike) must stay within the bound stated in math.ts. Where sin and cos
// are near their zeros the bound is absolute instead. The edges (NaN, ±Inf,
// ±0, domain limits, overflow and underflow) must come out exactly, signed
// zeros included.

import test, { type ExecutionContext } from "ava";
import { requireWasm } from "../../../runtime/wasm/api.js";
import { ModuleBuilder, type Local } from "../../../runtime/wasm/assembler.js";
import { BINARY_MATH, F32X4_MATH, UNARY_MATH, type MathFn } from "../../../runtime/wasm/math.js";
import { scalarFunction } from "../../../runtime/program/elementwise.js";
import { Random } from "../../../runtime/random.js";

const api = requireWasm();

// ---- running an emitter over a buffer ------------------------------------------

/** Floats per call: each operand and the result get a region of this size. */
const CHUNK = 1 << 16;
const CHUNK_BYTES = CHUNK * 4;

/** fn applied elementwise by a module over a memory of its own: arrays of any length (padded to lanes). */
function wasmFunction(fn: MathFn): (...operands: Float32Array[]) => Float32Array {
  const arity = (BINARY_MATH as readonly string[]).includes(fn) ? 2 : 1;
  const memory = new api.Memory({ initial: ((arity + 1) * CHUNK_BYTES) / 65536 });
  const m = new ModuleBuilder().importMemory({ module: "env", name: "memory", initial: ((arity + 1) * CHUNK_BYTES) / 65536 });
  // run(bytes): result[i] = fn(operand0[i], ...) for each f32x4 of the first `bytes` bytes; the regions follow each other.
  m.function("run", [["bytes", "i32"]], [], (f) => {
    const [bytes] = f.params as [Local];
    const i = f.addLocal("i32", "i");
    f.loop((again) => {
      for (let k = 0; k < arity; k++) {
        f.get(i);
        f.v128.load(k * CHUNK_BYTES);
      }
      F32X4_MATH[fn](f);
      const result = f.addLocal("v128", "result");
      f.set(result);
      f.get(i);
      f.get(result);
      f.v128.store(arity * CHUNK_BYTES);
      f.get(i);
      f.i32.const(16);
      f.i32.add();
      f.local.tee(i);
      f.get(bytes);
      f.i32.lt_u();
      f.br_if(again);
    });
  });
  const bytes = m.toBytes();
  if (!api.validate(bytes)) throw new Error(`invalid module:\n${m.toText()}`);
  const run = new api.Instance(new api.Module(bytes), { env: { memory } }).exports["run"] as (bytes: number) => void;
  const heap = new Float32Array(memory.buffer);
  return (...operands) => {
    const length = operands[0]!.length;
    const out = new Float32Array(length);
    for (let start = 0; start < length; start += CHUNK) {
      const count = Math.min(CHUNK, length - start);
      operands.forEach((x, k) => {
        heap.fill(0, k * CHUNK, (k + 1) * CHUNK);
        heap.set(x.subarray(start, start + count), k * CHUNK);
      });
      run(Math.ceil(count / 4) * 16);
      out.set(heap.subarray(arity * CHUNK, arity * CHUNK + count), start);
    }
    return out;
  };
}

/** The reference: the op's JavaScript formula in float64, rounded to f32. */
function reference(fn: MathFn): (...x: number[]) => number {
  const formula = scalarFunction(fn, "f32");
  return (...x) => Math.fround(formula(...x));
}

// ---- ulps ----------------------------------------------------------------------

const bitsF32 = new Float32Array(1);
const bitsI32 = new Int32Array(bitsF32.buffer);

/** The f32's position on the number line in ulps: consecutive floats differ by 1, +0 and -0 are both 0. */
function ordinal(x: number): number {
  bitsF32[0] = x;
  const i = bitsI32[0]!;
  return i < 0 ? -(i & 0x7fffffff) : i;
}

function fromOrdinal(o: number): number {
  bitsI32[0] = o < 0 ? -o | SIGN : o;
  return bitsF32[0]!;
}

const SIGN = 0x80000000 | 0;

/** The distance in ulps between two f32s; 0 for two NaNs, Infinity for a NaN and a number. */
function ulps(got: number, want: number): number {
  if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) && Number.isNaN(want) ? 0 : Infinity;
  return Math.abs(ordinal(got) - ordinal(want));
}

// ---- inputs ----------------------------------------------------------------------

/** `count` values from lo to hi, evenly spaced. */
function linear(lo: number, hi: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}

/** `count` floats from lo to hi evenly spaced in ulps: every binade between them alike. */
function ulpSweep(lo: number, hi: number, count: number): Float32Array {
  const a = ordinal(lo);
  const b = ordinal(hi);
  return Float32Array.from({ length: count }, (_, i) => fromOrdinal(Math.round(a + ((b - a) * i) / (count - 1))));
}

/** Random bit patterns: every f32 alike, NaNs and infinities included. */
function randomBits(random: Random, count: number): Float32Array {
  return new Float32Array(Uint32Array.from({ length: count }, () => random.nextU32()).buffer);
}

function uniform(random: Random, lo: number, hi: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * random.uniform());
}

// ---- checks --------------------------------------------------------------------

interface Worst {
  readonly ulps: number;
  readonly at: readonly number[];
  readonly got: number;
  readonly want: number;
}

/** The largest error over the inputs in ulps, not counting errors within `absolute` (when given). */
function worstError(fn: MathFn, operands: readonly Float32Array[], absolute?: number): Worst {
  const got = wasmFunction(fn)(...operands);
  const want = reference(fn);
  let worst: Worst = { ulps: 0, at: [], got: 0, want: 0 };
  for (let i = 0; i < got.length; i++) {
    const xs = operands.map((x) => x[i]!);
    const w = want(...xs);
    const e = ulps(got[i]!, w);
    if (e <= worst.ulps) continue;
    if (absolute !== undefined && Math.abs(got[i]! - w) <= absolute) continue;
    worst = { ulps: e, at: xs, got: got[i]!, want: w };
  }
  return worst;
}

function assertWithin(t: ExecutionContext, fn: MathFn, what: string, worst: Worst, bound: number): void {
  t.log(`${fn} ${what}: max ${worst.ulps} ulp${worst.ulps ? ` at ${worst.at.join(", ")} (got ${worst.got}, want ${worst.want})` : ""}`);
  t.true(worst.ulps <= bound, `${fn} ${what}: ${worst.ulps} ulps > ${bound} at ${worst.at.join(", ")}: got ${worst.got}, want ${worst.want}`);
}

/** Each edge exactly: same f32, same sign of zero, NaN for NaN. */
function assertEdges(t: ExecutionContext, fn: MathFn, cases: readonly (readonly number[])[]): void {
  const arity = (BINARY_MATH as readonly string[]).includes(fn) ? 2 : 1;
  const operands = Array.from({ length: arity }, (_, k) => Float32Array.from(cases, (c) => c[k]!));
  const got = wasmFunction(fn)(...operands);
  cases.forEach((c, i) => {
    const want = c[arity]!;
    t.true(Object.is(got[i], Math.fround(want)), `${fn}(${c.slice(0, arity).join(", ")}) = ${got[i]}, want ${want}`);
    t.true(Object.is(Math.fround(reference(fn)(...c.slice(0, arity))), Math.fround(want)), `the reference disagrees on ${fn}(${c.slice(0, arity).join(", ")})`);
  });
}

// ---- accuracy and edges, per function ----------------------------------------------

const INF = Infinity;
const DENORMAL_MIN = 2 ** -149;
const FLT_MAX = 3.4028234663852886e38;

/** Asserts the largest ulp error over each set of operands within `bound` (errors within `absolute` not counted). */
function accuracy(t: ExecutionContext, fn: MathFn, bound: number, inputs: Record<string, Float32Array[]>, absolute?: number): void {
  for (const [what, operands] of Object.entries(inputs)) assertWithin(t, fn, what, worstError(fn, operands, absolute), bound);
}

/** Every unary function's inputs besides its own sweeps: random bit patterns, and uniform draws over a wide range. */
function unaryRandom(seed: number): Record<string, Float32Array[]> {
  const random = new Random(seed);
  return { "random bits": [randomBits(random, 200_000)], "uniform in [-100, 100]": [uniform(random, -100, 100, 100_000)] };
}

test("exp: within 1 ulp; exp(-Inf) = 0, exp(Inf) = Inf, overflow to Inf above 88.72, denormal results, 0 below -103.98", (t) => {
  accuracy(t, "exp", 1, {
    "dense in [-104, 89]": [linear(-104, 89, 400_001)],
    "every binade of [-104, 89]": [ulpSweep(-104, 89, 400_001)],
    "denormal results, [-104, -87]": [linear(-104, -87, 100_001)],
    ...unaryRandom(1),
  });
  assertEdges(t, "exp", [
    [NaN, NaN],
    [-INF, 0],
    [INF, INF],
    [0, 1],
    [-0, 1],
    [89, INF],
    [88.8, INF],
    [FLT_MAX, INF],
    [-104, 0],
    [-FLT_MAX, 0],
    [DENORMAL_MIN, 1],
  ]);
});

test("log: within 1 ulp, denormals included; log(0) = -Inf, log(x < 0) = NaN, log(Inf) = Inf, log(1) = 0", (t) => {
  accuracy(t, "log", 1, {
    "dense in [0, 10]": [linear(0, 10, 400_001)],
    "dense in [0.5, 2]": [linear(0.5, 2, 400_001)],
    "every binade of (0, Inf)": [ulpSweep(DENORMAL_MIN, FLT_MAX, 400_001)],
    ...unaryRandom(2),
  });
  assertEdges(t, "log", [
    [NaN, NaN],
    [0, -INF],
    [-0, -INF],
    [-DENORMAL_MIN, NaN],
    [-1, NaN],
    [-INF, NaN],
    [INF, INF],
    [1, 0],
    [DENORMAL_MIN, Math.log(DENORMAL_MIN)],
    [2 ** -126, Math.log(2 ** -126)],
  ]);
});

test("tanh: within 1 ulp; tanh(±Inf) = ±1, tanh(-0) = -0, ±1 from |x| = 9.01", (t) => {
  accuracy(t, "tanh", 1, {
    "dense in [-10, 10]": [linear(-10, 10, 400_001)],
    "every binade of [-10, 10]": [ulpSweep(-10, 10, 400_001)],
    ...unaryRandom(3),
  });
  assertEdges(t, "tanh", [
    [NaN, NaN],
    [INF, 1],
    [-INF, -1],
    [0, 0],
    [-0, -0],
    [10, 1],
    [-10, -1],
    [DENORMAL_MIN, DENORMAL_MIN],
    [-DENORMAL_MIN, -DENORMAL_MIN],
  ]);
});

test("erf: within 1 ulp, near 0 too; erf(±Inf) = ±1, erf(-0) = -0, ±1 from |x| = 3.92", (t) => {
  accuracy(t, "erf", 1, {
    "dense in [-5, 5]": [linear(-5, 5, 400_001)],
    "every binade of [-5, 5]": [ulpSweep(-5, 5, 400_001)],
    ...unaryRandom(4),
  });
  assertEdges(t, "erf", [
    [NaN, NaN],
    [INF, 1],
    [-INF, -1],
    [0, 0],
    [4, 1],
    [-4, -1],
    [DENORMAL_MIN, DENORMAL_MIN],
    [-DENORMAL_MIN, -DENORMAL_MIN],
  ]);
  // erf is odd, and erf(-0) = -0 as in C and IEEE 754 (and the reference).
  t.true(Object.is(wasmFunction("erf")(Float32Array.of(-0))[0], -0));
});

/** sin and cos: accurate while q = round(x 2/π) < 2^16. */
const TRIG_RANGE = 1e5;
/** Near the zeros of sin and cos the reduction's absolute error (|r| small against x) bounds the error instead. */
const TRIG_ABSOLUTE = 2 ** -29;

for (const fn of ["sin", "cos"] as const) {
  test(`${fn}: within 2 ulp (or ${TRIG_ABSOLUTE.toExponential(1)} absolute near its zeros) for |x| <= 1e5, in [-1, 1] beyond; ${fn}(±Inf) = NaN`, (t) => {
    const random = new Random(fn === "sin" ? 5 : 6);
    const bits = randomBits(random, 200_000);
    accuracy(
      t,
      fn,
      2,
      {
        "dense in [-10, 10]": [linear(-10, 10, 400_001)],
        "dense in [-1e4, 1e4]": [linear(-1e4, 1e4, 400_001)],
        "every binade of [-1e5, 1e5]": [ulpSweep(-TRIG_RANGE, TRIG_RANGE, 400_001)],
        "random bits within 1e5": [bits.filter((x) => !(Math.abs(x) > TRIG_RANGE))],
        "uniform in [-1e5, 1e5]": [uniform(random, -TRIG_RANGE, TRIG_RANGE, 100_000)],
      },
      TRIG_ABSOLUTE,
    );
    const far = bits.filter((x) => Math.abs(x) > TRIG_RANGE && Number.isFinite(x));
    const y = wasmFunction(fn)(far);
    t.true(
      y.every((v) => Math.abs(v) <= 1),
      `${fn} beyond 1e5 leaves [-1, 1]`,
    );
    assertEdges(t, fn, [
      [NaN, NaN],
      [INF, NaN],
      [-INF, NaN],
      [0, fn === "sin" ? 0 : 1],
      [-0, fn === "sin" ? -0 : 1],
      [DENORMAL_MIN, fn === "sin" ? DENORMAL_MIN : 1],
    ]);
  });
}

test("log1p: within 1 ulp, as x itself near 0; log1p(-1) = -Inf, log1p(x < -1) = NaN, log1p(Inf) = Inf", (t) => {
  accuracy(t, "log1p", 1, {
    "dense in [-1, 10]": [linear(-1, 10, 400_001)],
    "dense in [-1e-3, 1e-3]": [linear(-1e-3, 1e-3, 400_001)],
    "every binade of [-1, Inf)": [ulpSweep(-1, FLT_MAX, 400_001)],
    ...unaryRandom(7),
  });
  assertEdges(t, "log1p", [
    [NaN, NaN],
    [-1, -INF],
    [-1.0000001, NaN],
    [-INF, NaN],
    [INF, INF],
    [0, 0],
    [-0, -0],
    [DENORMAL_MIN, DENORMAL_MIN],
    [-DENORMAL_MIN, -DENORMAL_MIN],
    [FLT_MAX, Math.log1p(FLT_MAX)],
  ]);
});

test("expm1: within 1 ulp, as x itself near 0; expm1(-Inf) = -1, expm1(Inf) = Inf, overflow to Inf above 88.72", (t) => {
  accuracy(t, "expm1", 1, {
    "dense in [-20, 89]": [linear(-20, 89, 400_001)],
    "dense in [-1e-3, 1e-3]": [linear(-1e-3, 1e-3, 400_001)],
    "every binade of [-30, 89]": [ulpSweep(-30, 89, 400_001)],
    ...unaryRandom(8),
  });
  assertEdges(t, "expm1", [
    [NaN, NaN],
    [-INF, -1],
    [INF, INF],
    [0, 0],
    [-0, -0],
    [DENORMAL_MIN, DENORMAL_MIN],
    [-DENORMAL_MIN, -DENORMAL_MIN],
    [-20, -1],
    [89, INF],
    [FLT_MAX, INF],
  ]);
});

test("softplus: within 2 ulp; softplus(Inf) = Inf, softplus(-Inf) = 0, x itself for large x, e^x (denormal too) for very negative x", (t) => {
  accuracy(t, "softplus", 2, {
    "dense in [-110, 100]": [linear(-110, 100, 400_001)],
    "dense in [-10, 10]": [linear(-10, 10, 400_001)],
    "every binade": [ulpSweep(-FLT_MAX, FLT_MAX, 400_001)],
    ...unaryRandom(9),
  });
  assertEdges(t, "softplus", [
    [NaN, NaN],
    [INF, INF],
    [-INF, 0],
    [100, 100],
    [FLT_MAX, FLT_MAX],
    [-200, 0],
    [-FLT_MAX, 0],
  ]);
});

test("pow: within 1 ulp, results from denormal to overflow and exponents up to 1e5 included", (t) => {
  const random = new Random(10);
  const n = 200_000;
  const logUniform = (lo: number, hi: number) => Float32Array.from({ length: n }, () => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * random.uniform()));
  const integers = (lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + random.int(hi - lo + 1));
  const fill = (v: number) => new Float32Array(n).fill(v);
  accuracy(t, "pow", 1, {
    "a in [1e-3, 1e3] (log-uniform), b in [-10, 10]": [logUniform(1e-3, 1e3), uniform(random, -10, 10, n)],
    "a in [0, 2], b in [-150, 150]: results over the whole range": [uniform(random, 0, 2, n), uniform(random, -150, 150, n)],
    "a near 1, b up to ±1e4": [uniform(random, 0.9, 1.1, n), uniform(random, -1e4, 1e4, n)],
    "a nearer 1, b up to ±1e5": [uniform(random, 0.999, 1.001, n), uniform(random, -1e5, 1e5, n)],
    "negative a, integer b": [uniform(random, -10, -0.1, n), integers(-30, 30)],
    "2^b to overflow and through the denormals": [fill(2), linear(-155, 130, n)],
    "sqrt: every binade of a, b = 0.5": [ulpSweep(DENORMAL_MIN, FLT_MAX, n), fill(0.5)],
    "rsqrt: every binade of a, b = -0.5": [ulpSweep(DENORMAL_MIN, FLT_MAX, n), fill(-0.5)],
    "cube: every binade of negative a, b = 3": [ulpSweep(-DENORMAL_MIN, -FLT_MAX, n), fill(3)],
    "random bits for both": [randomBits(random, n), randomBits(random, n)],
    "random bits for a, b in [-4, 4]": [randomBits(random, n), uniform(random, -4, 4, n)],
  });
});

test("pow: Math.pow's special cases", (t) => {
  assertEdges(t, "pow", [
    // x^±0 = 1, even for NaN; NaN otherwise propagates
    [NaN, 0, 1],
    [NaN, -0, 1],
    [INF, 0, 1],
    [-3, -0, 1],
    [NaN, 1, NaN],
    [2, NaN, NaN],
    [1, NaN, NaN],
    // 1 and -1 to ±Inf: NaN (unlike C's pow)
    [1, INF, NaN],
    [1, -INF, NaN],
    [-1, INF, NaN],
    [1, 12345.5, 1],
    // |a| > 1 or < 1 to ±Inf
    [2, INF, INF],
    [2, -INF, 0],
    [0.5, INF, 0],
    [0.5, -INF, INF],
    [-2, INF, INF],
    [-0.5, INF, 0],
    // ±0
    [0, 3, 0],
    [0, -3, INF],
    [-0, 3, -0],
    [-0, -3, -INF],
    [-0, 2, 0],
    [-0, -2, INF],
    [-0, 0.5, 0],
    [-0, -0.5, INF],
    // ±Inf
    [INF, 0.5, INF],
    [INF, -0.5, 0],
    [-INF, 3, -INF],
    [-INF, 2, INF],
    [-INF, 0.5, INF],
    [-INF, -3, -0],
    [-INF, -2, 0],
    // negative bases: integer exponents signed by parity, others NaN
    [-2, 3, -8],
    [-2, 2, 4],
    [-2, -1, -0.5],
    [-8, 1 / 3, NaN],
    [-1, 0.5, NaN],
    [-DENORMAL_MIN, 0.5, NaN],
    [-2, 2 ** 24, INF],
    [-0.5, 2 ** 24 + 2, 0],
    [-1, 2 ** 30, 1],
    // overflow, underflow, exact powers
    [2, 128, INF],
    [2, 127, 2 ** 127],
    [2, -149, DENORMAL_MIN],
    [2, -150, 0],
    [10, 39, INF],
    [FLT_MAX, 2, INF],
    [DENORMAL_MIN, -1, INF],
    [DENORMAL_MIN, 1, DENORMAL_MIN],
    [4, 0.5, 2],
    [9, 0.5, 3],
  ]);
});

test("the emitters compose: every function twice in one function validates, its locals named apart", (t) => {
  const m = new ModuleBuilder();
  m.function("all", [["x", "v128"]], ["v128"], (f) => {
    const [x] = f.params as [Local];
    for (let k = 0; k < 2; k++) {
      for (const fn of UNARY_MATH) {
        f.get(x);
        F32X4_MATH[fn](f);
        f.drop("v128");
      }
      f.get(x);
      f.get(x);
      F32X4_MATH.pow(f);
      f.drop("v128");
    }
    f.get(x);
  });
  t.true(api.validate(m.toBytes()));
  const names = [...m.toText().matchAll(/\(local \$(\S+) v128\)/g)].map((match) => match[1]);
  t.true(names.length > 0);
  t.is(new Set(names).size, names.length);
});
