// The elementwise primitives in WebAssembly SIMD128, four lanes at a time: one
// entry per op of runtime/program/elementwise.ts, in a table whose type
// demands them all, each matching the op's JavaScript formula there (which is
// the reference). An entry pushes the result of its operands, given as v128
// locals with their dtypes; an op the table left undefined would send its
// fused group to the JavaScript interpreter. The transcendental functions are
// runtime/wasm/math.ts's, within 1 or 2 ulp of the formulas (sin and cos up
// to |x| = 1e5).
//
// What the formulas imply, lane by lane:
// - f32 add, sub, mul, div and sqrt round once, as the formulas do (an f32
//   result of f64 arithmetic on f32 operands is the correctly rounded one);
// - maximum(a, b) is `a > b ? a : b` and minimum `a < b ? a : b`, so NaN in a
//   gives b: exactly pmax(b, a) and pmin(b, a);
// - comparisons give the i32 0 or 1, sign(NaN) is 0, where() tests c != 0;
// - cast truncates f32 toward zero (saturating where JavaScript would wrap an
//   out-of-range value).

import type { ElementwiseOp } from "../../program/elementwise.js";
import type { DType } from "../../program/ops.js";
import type { FunctionBuilder, Local } from "../../wasm/assembler.js";
import { F32X4_MATH } from "../../wasm/math.js";

/** Pushes the op's four results from operand locals `x` (dtypes `types`) into a value of dtype `out`. */
export type LaneOp = (f: FunctionBuilder, x: readonly Local[], types: readonly DType[], out: DType) => void;

const args = (f: FunctionBuilder, ...xs: readonly Local[]): void => xs.forEach((x) => f.get(x));

/** An op with an f32 and an i32 instruction on its operands in order. */
function typed(float: (f: FunctionBuilder) => void, int: ((f: FunctionBuilder) => void) | undefined): LaneOp | undefined {
  return (f, x, types) => {
    args(f, ...x);
    if (types[0] === "f32") float(f);
    else if (int) int(f);
    else throw new Error("internal: an f32-only lane op was given i32 operands");
  };
}

/** A comparison: the lane mask (all ones or zero) as the i32 1 or 0. */
function comparison(float: (f: FunctionBuilder) => void, int: (f: FunctionBuilder) => void): LaneOp {
  return (f, x, types) => {
    args(f, ...x);
    (types[0] === "f32" ? float : int)(f);
    f.i32x4.neg();
  };
}

/** A math function of f32x4 (runtime/wasm/math.ts). */
function math(fn: keyof typeof F32X4_MATH): LaneOp {
  return (f, x) => {
    args(f, ...x);
    F32X4_MATH[fn](f);
  };
}

export const WASM_ELEMENTWISE: { readonly [O in ElementwiseOp]: LaneOp | undefined } = {
  neg: typed((f) => f.f32x4.neg(), (f) => f.i32x4.neg()),
  abs: typed((f) => f.f32x4.abs(), (f) => f.i32x4.abs()),
  sqrt: typed((f) => f.f32x4.sqrt(), undefined),
  sign: (f, [x], types) => {
    // (x > 0 & one) | (x < 0 & minus one); NaN and 0 give 0.
    const float = types[0] === "f32";
    f.get(x!);
    float ? f.v128.const_f32x4([0, 0, 0, 0]) : f.v128.const_i32x4([0, 0, 0, 0]);
    float ? f.f32x4.gt() : f.i32x4.gt_s();
    float ? f.v128.const_f32x4([1, 1, 1, 1]) : f.v128.const_i32x4([1, 1, 1, 1]);
    f.v128.and();
    f.get(x!);
    float ? f.v128.const_f32x4([0, 0, 0, 0]) : f.v128.const_i32x4([0, 0, 0, 0]);
    float ? f.f32x4.lt() : f.i32x4.lt_s();
    float ? f.v128.const_f32x4([-1, -1, -1, -1]) : f.v128.const_i32x4([-1, -1, -1, -1]);
    f.v128.and();
    f.v128.or();
  },
  exp: math("exp"),
  log: math("log"),
  tanh: math("tanh"),
  sin: math("sin"),
  cos: math("cos"),
  erf: math("erf"),
  softplus: math("softplus"),
  log1p: math("log1p"),
  expm1: math("expm1"),

  add: typed((f) => f.f32x4.add(), (f) => f.i32x4.add()),
  sub: typed((f) => f.f32x4.sub(), (f) => f.i32x4.sub()),
  mul: typed((f) => f.f32x4.mul(), (f) => f.i32x4.mul()),
  div: typed((f) => f.f32x4.div(), undefined),
  maximum: (f, [a, b], types) => {
    if (types[0] === "f32") (f.get(b!), f.get(a!), f.f32x4.pmax());
    else (f.get(a!), f.get(b!), f.i32x4.max_s());
  },
  minimum: (f, [a, b], types) => {
    if (types[0] === "f32") (f.get(b!), f.get(a!), f.f32x4.pmin());
    else (f.get(a!), f.get(b!), f.i32x4.min_s());
  },
  pow: math("pow"),
  greater: comparison((f) => f.f32x4.gt(), (f) => f.i32x4.gt_s()),
  less: comparison((f) => f.f32x4.lt(), (f) => f.i32x4.lt_s()),
  equal: comparison((f) => f.f32x4.eq(), (f) => f.i32x4.eq()),
  where: (f, [c, a, b]) => {
    f.get(a!);
    f.get(b!);
    f.get(c!);
    f.v128.const_i32x4([0, 0, 0, 0]);
    f.i32x4.ne();
    f.v128.bitselect();
  },
  cast: (f, [x], [from], to) => {
    f.get(x!);
    if (from === to) return;
    if (to === "i32") f.i32x4.trunc_sat_f32x4_s();
    else f.f32x4.convert_i32x4_s();
  },
  stopGradient: (f, [x]) => f.get(x!),
};
