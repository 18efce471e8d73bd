// Transcendental functions on f32x4 lanes, emitted inline into WebAssembly
// SIMD128 code: one emitter per elementwise op of runtime/program/
// elementwise.ts, for the fused elementwise kernels of the CPU backend.
//
// An emitter takes its operand(s) on the operand stack ([x], or [a, b] for
// pow), leaves the f32x4 result there, and declares the v128 locals it needs.
// All four lanes take the same path: both sides of a case are computed and
// chosen with comparisons and v128.bitselect; there are no branches, calls or
// imports. The semantics are those of the ops' JavaScript formulas (float64,
// then rounded to f32), edges included: NaN in gives NaN out, and the
// infinities, zeros and domain limits give what Math.* gives (one exception:
// erf(-0) = -0, where the reference's series returns +0). Denormal inputs and
// results are computed, not flushed.
//
// Accuracy, the largest error the tests measure against that reference
// (test/runtime/wasm/math.test.ts: dense sweeps, every binade, random bit
// patterns): exp, log, expm1, log1p, tanh, erf and pow 1 ulp; softplus 2 ulp;
// sin and cos 2 ulp for |x| <= 1e5, or 2^-29 absolute near their zeros (the
// reduced argument's absolute error, large against a tiny result).
//
// Coefficients are minimax fits (Lawson's algorithm against mpmath, relative
// error, then rounded to f32), with the leading terms of each series exact.
//
// - exp: n = round(x log2 e), r = x - n ln2 in two steps (Cody-Waite, ln2 in
//   a 9-bit and a 24-bit piece), e^r = 1 + r + r^2 P(r) (P of degree 5), times
//   2^n as two normal powers of two (n from -150 to 128), so a denormal result
//   is rounded once. x is clamped to [-104, 89] first (0 below, Inf above).
// - expm1: the same reduction; with t = 2^(n-1), expm1(x) = 2 (t expm1(r) +
//   (t - 1/2)), where t - 1/2 is exact for n >= -24, so near 0 (n = 0) the
//   result is the polynomial itself. x is clamped to [-25, 89]; below 2^-25,
//   expm1(x) is x.
// - log: x = m 2^e with m in [√½, √2) (denormals scaled by 2^23 first),
//   f = m - 1 (exact), log m = f - f^2/2 + f^3 P(f) (P of degree 7), plus
//   e ln2 in two pieces. log1p: the same on u = 1 + x, plus the rounding error
//   of u, (x - (u - 1)) / u, whose numerator is exact; below 2^-25 it is x.
// - tanh: for |x| < 0.625, x + x^3 P(x^2) (P of degree 4); beyond,
//   1 - 2 / (e^2|x| + 1) with the sign of x, e^2|x| by exp's method for
//   arguments in [1.25, 20] (one factor 2^n, nothing to clamp below).
// - erf: for |x| < 1, x + x Q(x^2) (Q of degree 6); beyond, 1 - e^(-x^2) R(x)
//   with R(x) ≈ erfc(x) e^(x^2) of degree 8 in x - 2.5, fitted for the error
//   it makes in erf; |x| is clamped to 4 there (erf is 1 in f32 from 3.92).
// - sin, cos: q = round(x 2/π), r = x - q π/2 with π/2 in four pieces, the
//   first three of 8 significant bits (q · piece exact for |q| < 2^16),
//   sin r = r + r^3 S(r^2) and cos r = 1 - r^2/2 + r^4 C(r^2) (degree 2
//   each), chosen and signed by q mod 4. Accurate for |x| up to 1.03e5
//   (q < 2^16); beyond, q · piece is rounded and the error grows with |x|
//   (3e-4 absolute at 1.1e5, 5e-3 at 2e5, noise from 1e6 on), and r is
//   clamped to [-π/4, π/4] so that the results stay in [-1, 1].
// - softplus: max(x, 0) + log1p(e^-|x|), as the formula: never overflows.
// - pow: Math.pow's semantics. |a|^b = 2^y with y = b log2|a| computed in
//   f64 lanes: |a| = m 2^e as in log, log2 m by the atanh series of
//   s = (m - 1)/(m + 1) (seven terms, 1.3e-12 relative), so that y is far more
//   precise than an f32 result needs even for |y| ~ 150 or huge b. Then
//   y = n + t/ln2, t rounded to f32, and 2^n e^t as in exp. A negative base
//   gives the sign of an odd integer b, NaN for a non-integer b;
//   pow(x, ±0) = 1 and pow(±1, ±Inf) = NaN, as Math.pow.

import type { BinaryOp, UnaryOp } from "../program/elementwise.js";
import type { FunctionBuilder, Local } from "./assembler.js";
import { wasmFeatures } from "./features.js";
import { mulAdd } from "./madd.js";

export const UNARY_MATH = ["exp", "log", "tanh", "erf", "sin", "cos", "log1p", "expm1", "softplus"] as const satisfies readonly UnaryOp[];
export const BINARY_MATH = ["pow"] as const satisfies readonly BinaryOp[];
export type UnaryMathFn = (typeof UNARY_MATH)[number];
export type BinaryMathFn = (typeof BINARY_MATH)[number];
export type MathFn = UnaryMathFn | BinaryMathFn;

// ---- constants -----------------------------------------------------------------

const SIGN_BIT = 0x80000000 | 0;
const FLT_MIN = 2 ** -126; // the smallest normal f32
const NAN = NaN;
const INF = Infinity;

/** ln 2 = LN2_HI + LN2_LO: LN2_HI has 9 significant bits, so n · LN2_HI is exact for |n| < 2^15. */
const LN2_HI = 0.693359375;
const LN2_LO = Math.LN2 - LN2_HI;

/** exp(x) is 0 in f32 below (it is under half the least denormal) and Inf above (over 88.7228). */
const EXP_MIN = -104;
const EXP_MAX = 89;
/** expm1(x) is -1 in f32 below -17.3. */
const EXPM1_MIN = -25;

/** expm1(r) = r + r^2 (c0 + c1 r + ...) on |r| <= ln2/2: relative error 1.1e-9. */
const EXPM1_COEFFS = [0.5, 0.1666666567325592, 0.041666481643915176, 0.008333420380949974, 0.0013933421578258276, 0.00019824061018880457];

/** log(1 + f) = f - f^2/2 + f^3 (c0 + c1 f + ...) on f in [√½ - 1, √2 - 1]: relative error 6.4e-9. */
const LOG_COEFFS = [
  0.3333333134651184, -0.2500081956386566, 0.20001226663589478, -0.16623356938362122, 0.14201757311820984, -0.13160182535648346, 0.1276158094406128,
  -0.07634500414133072,
];

/** tanh(x) = x + x^3 (c0 + c1 x^2 + ...) on |x| < TANH_SPLIT: relative error 8.6e-9. */
const TANH_SPLIT = 0.625;
const TANH_COEFFS = [-0.3333328068256378, 0.13331441581249237, -0.05373971536755562, 0.02063908614218235, -0.005704985931515694];

/** erf(x) = x + x (c0 + c1 x^2 + ...) on |x| < ERF_SPLIT: relative error 2.3e-9. */
const ERF_SPLIT = 1;
const ERF_COEFFS = [
  0.12837916612625122, -0.3761262595653534, 0.1128358542919159, -0.026853812858462334, 0.005188327748328447, -0.0008010194869711995, 7.853865099605173e-5,
];
/**
 * erfc(x) e^(x^2) = c0 + c1 (x - ERFC_CENTER) + ... on [ERF_SPLIT, ERF_CLAMP],
 * fitted for the error it makes in erf(x) = 1 - e^(-x^2) (...): 3.4e-9 relative.
 */
const ERFC_CENTER = 2.5;
const ERF_CLAMP = 4;
const ERFC_COEFFS = [
  0.2108076512813568, -0.07434232532978058, 0.024912279099225998, -0.008137600496411324, 0.0023017222993075848, -0.0006505599012598395,
  0.0005573139060288668, 0.0002322582877241075, 0.00010819571616593748,
];

/** sin r = r + r^3 (c0 + c1 r^2 + ...), cos r = 1 - r^2/2 + r^4 (c0 + ...) on |r| <= π/4 + 0.01: 4.9e-9 and 1.0e-9 relative. */
const SIN_COEFFS = [-0.16666653752326965, 0.00833209976553917, -0.0001950694277184084];
const COS_COEFFS = [0.04166664555668831, -0.001388723379932344, 2.442362529109232e-5];
/** The reduced argument's bound: π/4, plus what a misrounded q adds for |x| < 1e5. */
const SIN_COS_REDUCED_MAX = Math.PI / 4 + 0.01;

/**
 * `value` as a sum of f32 pieces (Cody-Waite), each but the last with at most
 * `bits` significant bits, so that n · piece is exact for integers |n| < 2^(24 - bits).
 */
function cutInPieces(value: number, bits: number, pieces: number): number[] {
  const out: number[] = [];
  let rest = value;
  for (let i = 1; i < pieces; i++) {
    const unit = 2 ** (Math.floor(Math.log2(Math.abs(rest))) - bits + 1);
    const piece = Math.round(rest / unit) * unit;
    out.push(piece);
    rest -= piece;
  }
  out.push(Math.fround(rest));
  return out;
}

/** π/2 in pieces of 8 bits: q · piece is exact for |q| < 2^16, that is for |x| < 1.03e5. */
const PI_2_PIECES = cutInPieces(Math.PI / 2, 8, 4);

/** ln m = s (c0 + c1 s^2 + ...), s = (m - 1)/(m + 1), |s| <= 0.1716: the atanh series, relative error 1.3e-12. */
const ATANH_COEFFS = [2, 2 / 3, 2 / 5, 2 / 7, 2 / 9, 2 / 11, 2 / 13];

/** pow's exponent of 2 is clamped here: beyond, the result is Inf or 0 anyway. */
const POW2_MIN = -160;
const POW2_MAX = 130;

// ---- helpers -------------------------------------------------------------------

const localCounts = new WeakMap<FunctionBuilder, Map<string, number>>();

/** A v128 local named `name`, numbered when the function already has one of that name (an emitter used twice). */
function vector(f: FunctionBuilder, name: string): Local {
  let counts = localCounts.get(f);
  if (!counts) localCounts.set(f, (counts = new Map()));
  const count = (counts.get(name) ?? 0) + 1;
  counts.set(name, count);
  return f.addLocal("v128", count === 1 ? name : `${name}_${count}`);
}

/** Pushes the f32x4 (v, v, v, v). */
function splat(f: FunctionBuilder, v: number): void {
  f.v128.const_f32x4([v, v, v, v]);
}

function splatI32(f: FunctionBuilder, v: number): void {
  f.v128.const_i32x4([v, v, v, v]);
}

function splatF64(f: FunctionBuilder, v: number): void {
  f.v128.const_f64x2([v, v]);
}

/**
 * Pushes c[0] + c[1] x + c[2] x^2 + ... in f32 lanes. Without relaxed SIMD,
 * by Horner's rule. With it, each step is a multiply-add (fused where the
 * hardware has FMA, which only rounds less), and polynomials of degree 4 or
 * more take Estrin's scheme: pairs c[i] + c[i+1] x combined by powers x^2,
 * x^4, so the chain of dependent operations is about log2 of the degree
 * instead of the degree. That chain, not the instruction count, bounds these
 * kernels: a core keeps only a few iterations in flight.
 */
function polynomial(f: FunctionBuilder, x: Local, c: readonly number[]): void {
  const fma = wasmFeatures().relaxedSimd;
  const term = (i: number) => (): void => splat(f, c[i]!);
  const timesX = (): void => f.get(x);
  if (!fma || c.length < 5) {
    splat(f, c[c.length - 1]!);
    for (let i = c.length - 2; i >= 0; i--) mulAdd(f, fma, timesX, term(i));
    return;
  }
  // Terms of x^0, x^2, x^4, ...: c[2k] + c[2k+1] x (the last alone when c.length is odd).
  const pairs = Math.ceil(c.length / 2);
  const power = vector(f, "estrin_x2");
  f.get(x);
  f.get(x);
  f.f32x4.mul();
  f.set(power);
  // p = Σ pair_k (x^2)^k, as pair_0 + x^2 (pair_1 + x^2 (pair_2 + ...)) over the powers of x^2 by Horner
  // on x^2: the pairs are independent of each other, so only the outer chain (about degree / 2) is serial.
  const pair = (k: number): void => {
    splat(f, c[2 * k + 1] ?? c[2 * k]!);
    if (2 * k + 1 < c.length) mulAdd(f, true, timesX, term(2 * k));
  };
  pair(pairs - 1);
  for (let k = pairs - 2; k >= 0; k--) mulAdd(f, true, () => f.get(power), () => pair(k));
}

/** polynomial() in f64 lanes. */
function polynomialF64(f: FunctionBuilder, x: Local, c: readonly number[]): void {
  splatF64(f, c[c.length - 1]!);
  for (let i = c.length - 2; i >= 0; i--) {
    f.get(x);
    f.f64x2.mul();
    splatF64(f, c[i]!);
    f.f64x2.add();
  }
}

/** [x] -> [min(max(x, lo), hi)], NaN staying NaN (pmax and pmin keep their first operand unless the comparison holds). */
function clamp(f: FunctionBuilder, lo: number, hi: number): void {
  splat(f, lo);
  f.f32x4.pmax();
  splat(f, hi);
  f.f32x4.pmin();
}

/** [magnitude] -> [magnitude with the sign bit of `x`]. */
function copySign(f: FunctionBuilder, x: Local): void {
  const magnitude = vector(f, "magnitude");
  f.set(magnitude);
  f.get(x);
  f.get(magnitude);
  splatI32(f, SIGN_BIT);
  f.v128.bitselect();
}

/** result = mask ? value : result, lane by lane; `value` and `mask` each push one v128. */
function override(f: FunctionBuilder, result: Local, value: () => void, mask: () => void): void {
  value();
  f.get(result);
  mask();
  f.v128.bitselect();
  f.set(result);
}

/**
 * [y] -> [|x| < limit ? x : y], for the functions with f(x) = x + O(x^2) or
 * + O(x^3), below the `limit` where f(x) rounds to x: signed zeros and
 * denormals pass unchanged, whatever the formula does with them.
 */
function identityNearZero(f: FunctionBuilder, x: Local, limit: number): void {
  const y = vector(f, "y");
  f.set(y);
  override(
    f,
    y,
    () => f.get(x),
    () => {
      f.get(x);
      f.f32x4.abs();
      splat(f, limit);
      f.f32x4.lt();
    },
  );
  f.get(y);
}

/** [k: i32 lanes in [-126, 127]] -> [2^k: f32 lanes], the biased exponent (k + 127) shifted into place. */
function pow2(f: FunctionBuilder): void {
  splatI32(f, 127);
  f.i32x4.add();
  f.i32.const(23);
  f.i32x4.shl();
}

/**
 * [y] -> [y · 2^n] for i32 lanes n in [-252, 254]: two factors 2^(n >> 1) and
 * 2^(n - (n >> 1)), both normal, so that a denormal result is rounded once and
 * an overflow gives Inf.
 */
function scaleByPow2(f: FunctionBuilder, n: Local): void {
  const half = vector(f, "scale_half");
  f.get(n);
  f.i32.const(1);
  f.i32x4.shr_s();
  f.local.tee(half);
  pow2(f);
  f.f32x4.mul();
  f.get(n);
  f.get(half);
  f.i32x4.sub();
  pow2(f);
  f.f32x4.mul();
}

/**
 * x = m · 2^e for x > 0, normal or denormal: m in [√½, √2) and the integer e
 * in f32 lanes. Lanes of other x (0, negative, Inf, NaN) get finite m and e.
 */
function frexp(f: FunctionBuilder, x: Local, m: Local, e: Local): void {
  const tiny = vector(f, "frexp_tiny");
  const bits = vector(f, "frexp_bits");
  const high = vector(f, "frexp_high");
  // Denormals are scaled by 2^23 into the normal range (and e lowered by 23).
  f.get(x);
  splat(f, 2 ** 23);
  f.f32x4.mul();
  f.get(x);
  f.get(x);
  splat(f, FLT_MIN);
  f.f32x4.lt();
  f.local.tee(tiny);
  f.v128.bitselect();
  f.set(bits);
  // The mantissa bits under the exponent of 1: m in [1, 2).
  f.get(bits);
  splatI32(f, 0x007fffff);
  f.v128.and();
  splatI32(f, 0x3f800000);
  f.v128.or();
  f.set(m);
  // m >= √2 is halved (and e raised by 1), centering log m on 0.
  f.get(m);
  splat(f, Math.SQRT2);
  f.f32x4.ge();
  f.set(high);
  f.get(m);
  splat(f, 0.5);
  f.f32x4.mul();
  f.get(m);
  f.get(high);
  f.v128.bitselect();
  f.set(m);
  // e = biased exponent - 127 - (tiny ? 23 : 0) + (high ? 1 : 0); a true mask is -1.
  f.get(bits);
  f.i32.const(23);
  f.i32x4.shr_u();
  splatI32(f, 127);
  f.i32x4.sub();
  f.get(tiny);
  splatI32(f, 23);
  f.v128.and();
  f.i32x4.sub();
  f.get(high);
  f.i32x4.sub();
  f.f32x4.convert_i32x4_s();
  f.set(e);
}

/** Pushes e ln2 + log m (+ correction, a small term added before the last roundings) for m from frexp. */
function logOfParts(f: FunctionBuilder, m: Local, e: Local, correction?: Local): void {
  const g = vector(f, "log_f");
  const z = vector(f, "log_f2");
  f.get(m);
  splat(f, 1);
  f.f32x4.sub();
  f.local.tee(g); // exact: m is within a factor 2 of 1
  f.get(g);
  f.f32x4.mul();
  f.set(z);
  // g + (g^3 P(g) + e LN2_LO - g^2/2 [+ correction]) + e LN2_HI
  f.get(g);
  f.get(g);
  f.get(z);
  f.f32x4.mul();
  polynomial(f, g, LOG_COEFFS);
  f.f32x4.mul();
  f.get(e);
  splat(f, LN2_LO);
  f.f32x4.mul();
  f.f32x4.add();
  f.get(z);
  splat(f, 0.5);
  f.f32x4.mul();
  f.f32x4.sub();
  if (correction) {
    f.get(correction);
    f.f32x4.add();
  }
  f.f32x4.add();
  f.get(e);
  splat(f, LN2_HI);
  f.f32x4.mul();
  f.f32x4.add();
}

/** 1.5 · 2^23: adding it to |y| < 2^22 rounds y to an integer (to nearest, ties to even), held in the low bits of the sum. */
const ROUNDING_MAGIC = 12582912;

/**
 * n = round(x log2 e) and r = x - n ln2 (two steps; x - n LN2_HI is exact),
 * |r| <= ln2/2 + rounding; also n in i32 lanes. n is rounded by adding and
 * subtracting ROUNDING_MAGIC, whose sum's bits minus the magic's are n as an
 * integer: n as f32x4.nearest would round x log2 e (with a fused
 * multiply-add, its exact value rather than its float), without a
 * float-to-int conversion (x is clamped, |x log2 e| < 2^22).
 */
function reduceByLn2(f: FunctionBuilder, x: Local, n: Local, r: Local, ni: Local): void {
  const sum = vector(f, "ln2_magic");
  const fma = wasmFeatures().relaxedSimd;
  f.get(x);
  mulAdd(f, fma, () => splat(f, Math.LOG2E), () => splat(f, ROUNDING_MAGIC));
  f.local.tee(sum);
  splat(f, ROUNDING_MAGIC);
  f.f32x4.sub();
  f.set(n);
  f.get(sum);
  splatI32(f, new Int32Array(Float32Array.of(ROUNDING_MAGIC).buffer)[0]!);
  f.i32x4.sub();
  f.set(ni);
  // r = n (-LN2_HI) + x, exact (n LN2_HI is), then r + n (-LN2_LO).
  for (const [piece, from] of [[LN2_HI, x], [LN2_LO, r]] as const) {
    f.get(n);
    mulAdd(f, fma, () => splat(f, -piece), () => f.get(from));
    f.set(r);
  }
}

/** Pushes expm1(r) for |r| <= ln2/2: r + r^2 P(r). */
function expm1Reduced(f: FunctionBuilder, r: Local): void {
  f.get(r);
  f.get(r);
  f.f32x4.mul();
  mulAdd(f, wasmFeatures().relaxedSimd, () => polynomial(f, r, EXPM1_COEFFS), () => f.get(r));
}

/** [n in f32 lanes] -> [n in i32 lanes] in a new local. */
function toInt(f: FunctionBuilder, name: string): Local {
  const ni = vector(f, name);
  f.i32x4.trunc_sat_f32x4_s();
  f.set(ni);
  return ni;
}

// ---- the functions -------------------------------------------------------------

function exp(f: FunctionBuilder): void {
  clamp(f, EXP_MIN, EXP_MAX);
  expOfClamped(f, "exp", (ni) => scaleByPow2(f, ni));
}

/**
 * [x] -> [e^x] for x clamped to where `scale` is right: e^r as 1 + expm1(r),
 * r and n from reduceByLn2, times 2^n as `scale` applies it to the stack.
 */
function expOfClamped(f: FunctionBuilder, name: string, scale: (ni: Local) => void): void {
  const x = vector(f, `${name}_x`);
  const n = vector(f, `${name}_n`);
  const r = vector(f, `${name}_r`);
  const ni = vector(f, `${name}_ni`);
  f.set(x);
  reduceByLn2(f, x, n, r, ni);
  expm1Reduced(f, r);
  splat(f, 1);
  f.f32x4.add();
  scale(ni);
}

function expm1(f: FunctionBuilder): void {
  const input = vector(f, "expm1_in");
  const x = vector(f, "expm1_x");
  const n = vector(f, "expm1_n");
  const r = vector(f, "expm1_r");
  const p = vector(f, "expm1_p");
  const t = vector(f, "expm1_t");
  f.local.tee(input);
  clamp(f, EXPM1_MIN, EXP_MAX);
  f.set(x);
  const ni = vector(f, "expm1_ni");
  reduceByLn2(f, x, n, r, ni);
  expm1Reduced(f, r);
  f.set(p);
  // t = 2^(n - 1), n in [-36, 128]
  f.get(ni);
  splatI32(f, 1);
  f.i32x4.sub();
  pow2(f);
  f.set(t);
  // e^x - 1 = 2^n (1 + p) - 1 = 2 (t p + (t - 1/2))
  f.get(t);
  f.get(p);
  f.f32x4.mul();
  f.get(t);
  splat(f, 0.5);
  f.f32x4.sub();
  f.f32x4.add();
  splat(f, 2);
  f.f32x4.mul();
  identityNearZero(f, input, 2 ** -25); // -0 and the denormals, which t p with t = 1/2 would round
}

function log(f: FunctionBuilder): void {
  const x = vector(f, "log_x");
  const m = vector(f, "log_m");
  const e = vector(f, "log_e");
  const result = vector(f, "log_result");
  f.set(x);
  frexp(f, x, m, e);
  logOfParts(f, m, e);
  f.set(result);
  // log(+Inf) = +Inf, log(±0) = -Inf, log(x < 0) = log(NaN) = NaN
  logEdges(f, result, x, 0);
  f.get(result);
}

/** The edges of a logarithm with its pole at x = `pole` (log: 0, log1p: -1): +Inf at +Inf, -Inf at the pole, NaN below it and for NaN. */
function logEdges(f: FunctionBuilder, result: Local, x: Local, pole: number): void {
  override(
    f,
    result,
    () => f.get(x),
    () => {
      f.get(x);
      splat(f, INF);
      f.f32x4.eq();
    },
  );
  override(
    f,
    result,
    () => splat(f, -INF),
    () => {
      f.get(x);
      splat(f, pole);
      f.f32x4.eq();
    },
  );
  override(
    f,
    result,
    () => splat(f, NAN),
    () => {
      f.get(x);
      splat(f, pole);
      f.f32x4.ge();
      f.v128.not();
    },
  );
}

function log1p(f: FunctionBuilder): void {
  const x = vector(f, "log1p_x");
  const u = vector(f, "log1p_u");
  const m = vector(f, "log1p_m");
  const e = vector(f, "log1p_e");
  const c = vector(f, "log1p_c");
  const result = vector(f, "log1p_result");
  f.local.tee(x);
  splat(f, 1);
  f.f32x4.add();
  f.set(u);
  frexp(f, u, m, e);
  // u = 1 + x rounded; log(1 + x) = log u + (x - (u - 1)) / u, the numerator exact.
  f.get(x);
  f.get(u);
  splat(f, 1);
  f.f32x4.sub();
  f.f32x4.sub();
  f.get(u);
  f.f32x4.div();
  f.set(c);
  logOfParts(f, m, e, c);
  f.set(result);
  // log1p(+Inf) = +Inf, log1p(-1) = -Inf, log1p(x < -1) = log1p(NaN) = NaN
  logEdges(f, result, x, -1);
  f.get(result);
  identityNearZero(f, x, 2 ** -25);
}

/** [] -> [x + x P(z)], or [x + x z P(z)] when `timesZ`, setting z = x^2: an odd function's series near 0. */
function oddSeries(f: FunctionBuilder, x: Local, z: Local, coefficients: readonly number[], timesZ: boolean): void {
  f.get(x);
  f.get(x);
  f.get(x);
  f.get(x);
  f.f32x4.mul();
  if (timesZ) {
    f.local.tee(z);
    f.f32x4.mul();
  } else f.set(z);
  polynomial(f, z, coefficients);
  f.f32x4.mul();
  f.f32x4.add();
}

/** [near] -> [near where |x| < split, else far]. */
function belowSplit(f: FunctionBuilder, far: Local, ax: Local, split: number): void {
  f.get(far);
  f.get(ax);
  splat(f, split);
  f.f32x4.lt();
  f.v128.bitselect();
}

/**
 * [y] -> [e^min(y, 20)] for y >= 0 (or NaN): exp without what only its
 * extremes need (the clamp below, two factors of 2^n for denormal results),
 * a shorter chain for tanh, whose e^2|x| is 1 - 2/(e^20 + 1) = 1 in f32 from 20 on.
 */
function expOfSmallPositive(f: FunctionBuilder): void {
  splat(f, 20);
  f.f32x4.pmin();
  expOfClamped(f, "exps", (ni) => {
    f.get(ni);
    pow2(f);
    f.f32x4.mul();
  });
}

function tanh(f: FunctionBuilder): void {
  const x = vector(f, "tanh_x");
  const ax = vector(f, "tanh_abs");
  const z = vector(f, "tanh_x2");
  const far = vector(f, "tanh_far");
  f.local.tee(x);
  f.f32x4.abs();
  f.set(ax);
  // |x| >= TANH_SPLIT: ±(1 - 2 / (e^2|x| + 1)), which rounds to ±1 from |x| = 9.01
  splat(f, 1);
  splat(f, 2);
  f.get(ax);
  splat(f, 2);
  f.f32x4.mul();
  expOfSmallPositive(f);
  splat(f, 1);
  f.f32x4.add();
  f.f32x4.div();
  f.f32x4.sub();
  copySign(f, x);
  f.set(far);
  // |x| < TANH_SPLIT: x + x z P(z), z = x^2
  oddSeries(f, x, z, TANH_COEFFS, true);
  belowSplit(f, far, ax, TANH_SPLIT);
  identityNearZero(f, x, 2 ** -13); // (x + x z P(z) is +0 for -0)
}

function erf(f: FunctionBuilder): void {
  const x = vector(f, "erf_x");
  const ax = vector(f, "erf_abs");
  const a = vector(f, "erf_clamped");
  const t = vector(f, "erf_t");
  const z = vector(f, "erf_x2");
  const far = vector(f, "erf_far");
  f.local.tee(x);
  f.f32x4.abs();
  f.local.tee(ax);
  splat(f, ERF_CLAMP);
  f.f32x4.pmin();
  f.local.tee(a);
  splat(f, ERFC_CENTER);
  f.f32x4.sub();
  f.set(t);
  // |x| >= ERF_SPLIT: ±(1 - e^(-a^2) R(a - ERFC_CENTER)), a = min(|x|, ERF_CLAMP)
  splat(f, 1);
  f.get(a);
  f.get(a);
  f.f32x4.mul();
  f.f32x4.neg();
  exp(f);
  polynomial(f, t, ERFC_COEFFS);
  f.f32x4.mul();
  f.f32x4.sub();
  copySign(f, x);
  f.set(far);
  // |x| < ERF_SPLIT: x + x Q(z), z = x^2
  oddSeries(f, x, z, ERF_COEFFS, false);
  belowSplit(f, far, ax, ERF_SPLIT);
}

/** [x] -> [sin(x + quadrant π/2)]: sin for quadrant 0, cos for 1. */
function sinCos(f: FunctionBuilder, quadrant: 0 | 1, name: string): void {
  const x = vector(f, `${name}_x`);
  const q = vector(f, `${name}_q`);
  const r = vector(f, `${name}_r`);
  const z = vector(f, `${name}_r2`);
  const sinR = vector(f, `${name}_sin_r`);
  const cosR = vector(f, `${name}_cos_r`);
  const k = vector(f, `${name}_quadrant`);
  f.local.tee(x);
  splat(f, 2 / Math.PI);
  f.f32x4.mul();
  f.f32x4.nearest();
  f.set(q);
  // r = x - q π/2, one piece at a time (x - q piece[0] is exact)
  f.get(x);
  for (const piece of PI_2_PIECES) {
    f.get(q);
    splat(f, piece);
    f.f32x4.mul();
    f.f32x4.sub();
  }
  clamp(f, -SIN_COS_REDUCED_MAX, SIN_COS_REDUCED_MAX);
  f.local.tee(r);
  f.get(r);
  f.f32x4.mul();
  f.set(z);
  // sin r = r + r z S(z)
  f.get(r);
  f.get(r);
  f.get(z);
  f.f32x4.mul();
  polynomial(f, z, SIN_COEFFS);
  f.f32x4.mul();
  f.f32x4.add();
  f.set(sinR);
  // cos r = (z^2 C(z) - z/2) + 1
  f.get(z);
  f.get(z);
  f.f32x4.mul();
  polynomial(f, z, COS_COEFFS);
  f.f32x4.mul();
  f.get(z);
  splat(f, 0.5);
  f.f32x4.mul();
  f.f32x4.sub();
  splat(f, 1);
  f.f32x4.add();
  f.set(cosR);
  // k = q + quadrant: sin(r + k π/2) is sin r, cos r, -sin r, -cos r for k mod 4 = 0, 1, 2, 3.
  f.get(q);
  f.i32x4.trunc_sat_f32x4_s();
  splatI32(f, quadrant);
  f.i32x4.add();
  f.set(k);
  f.get(cosR);
  f.get(sinR);
  f.get(k); // k odd: all ones
  f.i32.const(31);
  f.i32x4.shl();
  f.i32.const(31);
  f.i32x4.shr_s();
  f.v128.bitselect();
  f.get(k); // k & 2: the sign bit
  f.i32.const(30);
  f.i32x4.shl();
  splatI32(f, SIGN_BIT);
  f.v128.and();
  f.v128.xor();
  if (quadrant === 0) identityNearZero(f, x, 2 ** -12);
}

function sin(f: FunctionBuilder): void {
  sinCos(f, 0, "sin");
}

function cos(f: FunctionBuilder): void {
  sinCos(f, 1, "cos");
}

function softplus(f: FunctionBuilder): void {
  const x = vector(f, "softplus_x");
  f.local.tee(x);
  f.f32x4.abs();
  f.f32x4.neg();
  exp(f);
  log1p(f);
  f.get(x);
  splat(f, 0);
  f.f32x4.pmax();
  f.f32x4.add();
}

/** Pushes lanes 0 and 1 (half 0) or 2 and 3 (half 1) of the f32 lanes of v, widened to f64. */
function promoteHalf(f: FunctionBuilder, v: Local, half: 0 | 1): void {
  f.get(v);
  if (half === 1) {
    f.get(v);
    f.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
  }
  f.f64x2.promote_low_f32x4();
}

/** [lo, hi]: the f32 lanes 0 and 1 of each -> [lo0, lo1, hi0, hi1]. */
function joinHalves(f: FunctionBuilder): void {
  f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
}

function pow(f: FunctionBuilder): void {
  const a = vector(f, "pow_a");
  const b = vector(f, "pow_b");
  const absA = vector(f, "pow_abs_a");
  const m = vector(f, "pow_m");
  const e = vector(f, "pow_e");
  const m64 = vector(f, "pow_m64");
  const s = vector(f, "pow_s");
  const s2 = vector(f, "pow_s2");
  const y = vector(f, "pow_y");
  const n64 = vector(f, "pow_n64");
  const tHalves = [vector(f, "pow_t_lo"), vector(f, "pow_t_hi")] as const;
  const nHalves = [vector(f, "pow_n_lo"), vector(f, "pow_n_hi")] as const;
  const t = vector(f, "pow_t");
  const n = vector(f, "pow_n");
  const odd = vector(f, "pow_odd");
  const result = vector(f, "pow_result");
  f.set(b);
  f.local.tee(a);
  f.f32x4.abs();
  f.set(absA);
  // |a| = m 2^e; for |a| = 0, Inf or NaN, e carries log2|a| (-Inf, Inf, NaN) and m is finite.
  frexp(f, absA, m, e);
  override(
    f,
    e,
    () => f.get(absA),
    () => {
      f.get(absA);
      splat(f, INF);
      f.f32x4.lt();
      f.v128.not();
    },
  );
  override(
    f,
    e,
    () => splat(f, -INF),
    () => {
      f.get(absA);
      splat(f, 0);
      f.f32x4.eq();
    },
  );
  // In f64, two lanes at a time: y = b (e + log2 m), n = round(y), t = (y - n) ln2.
  for (const half of [0, 1] as const) {
    promoteHalf(f, m, half);
    f.set(m64);
    f.get(m64);
    splatF64(f, 1);
    f.f64x2.sub();
    f.get(m64);
    splatF64(f, 1);
    f.f64x2.add();
    f.f64x2.div();
    f.local.tee(s);
    f.get(s);
    f.f64x2.mul();
    f.set(s2);
    f.get(s);
    polynomialF64(f, s2, ATANH_COEFFS);
    f.f64x2.mul(); // ln m
    splatF64(f, Math.LOG2E);
    f.f64x2.mul();
    promoteHalf(f, e, half);
    f.f64x2.add();
    promoteHalf(f, b, half);
    f.f64x2.mul();
    f.local.tee(y);
    f.f64x2.nearest();
    f.local.tee(n64);
    f.f32x4.demote_f64x2_zero();
    f.set(nHalves[half]);
    f.get(y);
    f.get(n64);
    f.f64x2.sub();
    splatF64(f, Math.LN2);
    f.f64x2.mul();
    f.f32x4.demote_f64x2_zero();
    f.set(tHalves[half]);
  }
  f.get(tHalves[0]);
  f.get(tHalves[1]);
  joinHalves(f);
  f.set(t);
  f.get(nHalves[0]);
  f.get(nHalves[1]);
  joinHalves(f);
  f.set(n);
  // y = ±Inf (or beyond f32): n = ±Inf, t = NaN; t = 0 lets the clamped n give Inf or 0.
  override(
    f,
    t,
    () => splat(f, 0),
    () => {
      f.get(n);
      f.f32x4.abs();
      splat(f, INF);
      f.f32x4.eq();
    },
  );
  f.get(n);
  clamp(f, POW2_MIN, POW2_MAX);
  const ni = toInt(f, "pow_ni");
  // |a|^b = 2^n e^t
  expm1Reduced(f, t);
  splat(f, 1);
  f.f32x4.add();
  scaleByPow2(f, ni);
  f.set(result);
  // b an odd integer: b = trunc(b) and b/2 != trunc(b/2) (false for ±Inf, NaN and |b| >= 2^24)
  f.get(b);
  f.get(b);
  f.f32x4.trunc();
  f.f32x4.eq();
  f.get(b);
  splat(f, 0.5);
  f.f32x4.mul();
  f.local.tee(odd);
  f.get(odd);
  f.f32x4.trunc();
  f.f32x4.ne();
  f.v128.and();
  f.set(odd);
  // A negative base (-0 and -Inf included) to an odd power gives a negative result.
  f.get(result);
  f.get(a);
  f.get(odd);
  f.v128.and();
  splatI32(f, SIGN_BIT);
  f.v128.and();
  f.v128.xor();
  f.set(result);
  // A finite negative base to a non-integer power: NaN.
  override(
    f,
    result,
    () => splat(f, NAN),
    () => {
      f.get(a);
      splat(f, 0);
      f.f32x4.lt();
      f.get(a);
      splat(f, -INF);
      f.f32x4.gt();
      f.v128.and();
      f.get(b);
      f.get(b);
      f.f32x4.trunc();
      f.f32x4.ne();
      f.v128.and();
    },
  );
  // x^±0 = 1, NaN^0 included.
  override(
    f,
    result,
    () => splat(f, 1),
    () => {
      f.get(b);
      splat(f, 0);
      f.f32x4.eq();
    },
  );
  f.get(result);
}

/**
 * The emitters by op name. Each takes its f32x4 operand(s) from the operand
 * stack ([x], or [a, b] for pow) and leaves the f32x4 result there.
 */
export const F32X4_MATH: { readonly [K in MathFn]: (f: FunctionBuilder) => void } = {
  exp,
  log,
  tanh,
  erf,
  sin,
  cos,
  log1p,
  expm1,
  softplus,
  pow,
};
