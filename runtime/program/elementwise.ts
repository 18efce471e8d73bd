// The elementwise primitives, each defined once, in one table.
//
// An entry says everything a target needs to know about one op: its arity,
// its dtype rule, its scalar formula in JavaScript (the CPU loops and constant
// folding are generated from it) and in WGSL (the kernels' expressions), what
// it does with NaN and Inf, its derivative, and the names a model calls it by.
// Nothing else in dlc spells out what `tanh` means: the CPU interpreter
// (runtime/cpu/kernels/loops.ts), the WGSL emitter (compiler/codegen/wgsl/
// expr.ts), constant folding, the algebraic simplifier, autodiff
// (compiler/ops/elementwise.ts) and the frontend's library all read this table.
//
// Adding an op: an entry here (the list of its arity, then the table), its
// declaration in lang/dlc.d.ts, and a test. The mapped type of ELEMENTWISE
// makes a missing entry, or a missing field of one, a type error.
//
// The derivative is written against ScalarBuilder, an interface the compiler
// implements over graph nodes, so that this file (part of the runtime, which
// never loads the compiler) can state it without building anything.

import type { DType } from "./ops.js";
import { PHILOX_WGSL } from "./philox.js";

export const UNARY_OPS = ["neg", "exp", "log", "sqrt", "tanh", "abs", "sign", "sin", "cos", "erf", "softplus", "log1p", "expm1"] as const;
export const BINARY_OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "greater", "less", "equal"] as const;
/** Ops of other arities, or with attributes. */
export const OTHER_ELEMENTWISE_OPS = ["where", "cast", "stopGradient"] as const;
export const ELEMENTWISE_OPS = [...UNARY_OPS, ...BINARY_OPS, ...OTHER_ELEMENTWISE_OPS] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ElementwiseOp = (typeof ELEMENTWISE_OPS)[number];

/** The operations a derivative is written with: every elementwise op, plus constants and a few questions. */
export type ScalarBuilder<T> = { readonly [O in UnaryOp]: (x: T) => T } & { readonly [O in BinaryOp]: (a: T, b: T) => T } & {
  readonly where: (c: T, a: T, b: T) => T;
  /** The f32 constant v, in the shape of the op's output. */
  readonly lit: (v: number) => T;
  readonly dtype: (x: T) => DType;
  /** Whether x is a compile-time constant (a `const` node). */
  readonly isConst: (x: T) => boolean;
};

/**
 * The vector-Jacobian product: the cotangent of each operand given the
 * operands `x`, the result `y` and the result's cotangent `g`; undefined where
 * it is zero (integer operands, piecewise-constant ops).
 */
export type ScalarVjp = <T>(b: ScalarBuilder<T>, x: readonly T[], y: T, g: T) => readonly (T | undefined)[];

/** A formula: operand i's expression is `x(i)`; `type` is the result's dtype. */
export type Formula = (x: (i: number) => string, type: DType) => string;

export interface WgslContext {
  /** Operand i's value when it is a compile-time constant. */
  readonly constant: (i: number) => number | undefined;
}

export interface ElementwiseDef {
  readonly arity: 1 | 2 | 3;
  /**
   * Operand dtypes: `f32` for float-only ops; `any` for f32 or i32, all
   * operands the same; `select` for an i32 condition and two branches of one dtype.
   */
  readonly operands: "f32" | "any" | "select";
  /** The result's dtype: the operands' (`same`), an i32 mask (`i32`), or the cast's target (`cast`). */
  readonly result: "same" | "i32" | "cast";
  /** Integer operands are promoted to f32 first (true division, fractional powers): `7 / 2` is 3.5. */
  readonly promoteInts?: true;
  /**
   * A JavaScript expression, evaluated in float64 and stored to the result's
   * typed array. It may use the helpers in JS_HELPERS as `h.name(...)`.
   */
  readonly js: Formula;
  /** A WGSL expression; it may call the functions named in `wgslHelpers`. */
  readonly wgsl: (x: (i: number) => string, type: DType, ctx: WgslContext) => string;
  /** WGSL helper functions the expression calls (keys of WGSL_HELPERS, in dependency order). */
  readonly wgslHelpers?: readonly (keyof typeof WGSL_HELPERS)[];
  /** Behaviour at the edges, where targets could differ: NaN, Inf, domain limits. */
  readonly edges?: string;
  readonly vjp: ScalarVjp;
  /** The names a model calls it by: a `dlc` import, and `Math.name` applied to a tensor. */
  readonly names?: { readonly dlc?: string; readonly math?: string };
  /** The output is the input (no computation): the CPU aliases its buffer. */
  readonly identity?: true;
}

/** erf in float64 to about 1e-15: a Taylor series below 2, a continued fraction of erfc beyond. */
function erf(x: number): number {
  if (x === 0) return x; // erf(-0) = -0, as in C, WGSL and the wasm lanes (the series would give +0)
  const ax = Math.abs(x);
  if (ax < 2) {
    // sum (-1)^n x^(2n+1) / (n! (2n+1)); below 2 cancellation costs at most 2 of 16 digits.
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (Number.isNaN(x)) return NaN;
  // erfc(x) = e^(-x^2) / sqrt(pi) / (x + (1/2) / (x + (2/2) / (x + (3/2) / ...))), 60 terms from x = 2 on.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

/** Functions the JavaScript formulas call as `h.name`. */
export const JS_HELPERS = { erf } as const;

/**
 * WGSL functions the WGSL formulas call. WGSL has no erf, log1p or expm1; its
 * compilers may assume no NaN or Inf and may reassociate arithmetic, so each
 * uses branches and series rather than cancellation tricks.
 */
export const WGSL_HELPERS = {
  erf: `fn dlc_erf(x: f32) -> f32 {
  // Near 0 a Taylor series (relative error < 1e-7); beyond, Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).
  let x2 = x * x;
  let series = 1.1283791671 * x * (1.0 + x2 * (-0.3333333333 + x2 * (0.1 + x2 * (-0.0238095238 + x2 * (0.0046296296 - x2 * 0.0007575758)))));
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return select(sign(x) * (1.0 - p * exp(-x2)), series, abs(x) < 0.5);
}`,
  log1p: `fn dlc_log1p(x: f32) -> f32 {
  // Near 0 a series: 1 + x rounds away the low bits of x. (Goldberg's log(u) x / (u - 1) does not
  // survive compilers that fold (1 + x) - 1 to x.) Beyond 0.1, log(1 + x) is within 1e-6.
  if (abs(x) < 0.1) {
    return x * (1.0 - x * (0.5 - x * (0.33333334 - x * (0.25 - x * (0.2 - x * (0.16666667 - x * (0.14285715 - x * 0.125)))))));
  }
  return log(1.0 + x);
}`,
  expm1: `fn dlc_expm1(x: f32) -> f32 {
  // Near 0 a series, where exp(x) - 1 cancels (Kahan's (u - 1) x / log(u) does not survive
  // compilers that fold log(exp(x)) to x); beyond 0.1 the cancellation costs under 1e-6.
  if (abs(x) < 0.1) {
    return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334 + x * (0.0013888889 + x * 0.0001984127))))));
  }
  return exp(x) - 1.0;
}`,
  tanh: `fn dlc_tanh(x: f32) -> f32 {
  // Near 0 a series: some GPUs compute tanh as (e^2x - 1) / (e^2x + 1), which cancels there.
  // Beyond ±15 tanh is ±1 in f32; clamping keeps exp() in range on every GPU.
  if (abs(x) < 0.1) {
    let x2 = x * x;
    return x * (1.0 - x2 * (0.33333334 - x2 * (0.13333334 - x2 * 0.053968254)));
  }
  return tanh(clamp(x, -15.0, 15.0));
}`,
  softplus: `fn dlc_softplus(x: f32) -> f32 {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows.
  return max(x, 0.0) + dlc_log1p(exp(-abs(x)));
}`,
  /** Not an elementwise formula's: the random primitive's generator (./philox.ts), declared the same way. */
  philox: PHILOX_WGSL,
} as const;

/** x ** c for a constant c in WGSL: products for small integers (exact, and defined for x < 0 unlike pow()). */
function constPower(x: string, c: number | undefined): string | undefined {
  if (c === undefined) return undefined;
  if (c === 0.5) return `sqrt(${x})`;
  if (!Number.isInteger(c) || Math.abs(c) > 4) return undefined;
  if (c === 0) return "1.0";
  const product = Array.from({ length: Math.abs(c) }, () => x).join(" * ");
  return c > 0 ? `(${product})` : `(1.0 / (${product}))`;
}

const f32 = { arity: 1, operands: "f32", result: "same" } as const;
const anyUnary = { arity: 1, operands: "any", result: "same" } as const;
const arithmetic = { arity: 2, operands: "any", result: "same" } as const;
const comparison = { arity: 2, operands: "any", result: "i32" } as const;
const none: ScalarVjp = (_b, x) => x.map(() => undefined);

// Conventions where a derivative is undefined: abs'(0) = 0 (sign(0) = 0);
// maximum(a, b) and minimum(a, b) send the whole gradient to b on ties, so
// relu(x) = maximum(x, 0) has relu'(0) = 0 as in PyTorch and JAX; pow(a, b)
// gives b a zero gradient where a <= 0 (log a is undefined there).
export const ELEMENTWISE: { readonly [O in ElementwiseOp]: ElementwiseDef } = {
  neg: { ...anyUnary, js: (x) => `-${x(0)}`, wgsl: (x) => `(-${x(0)})`, vjp: (b, _x, _y, g) => [b.neg(g)] },
  exp: { ...f32, js: (x) => `Math.exp(${x(0)})`, wgsl: (x) => `exp(${x(0)})`, vjp: (b, _x, y, g) => [b.mul(g, y)], names: { dlc: "exp", math: "exp" } },
  log: {
    ...f32,
    js: (x) => `Math.log(${x(0)})`,
    wgsl: (x) => `log(${x(0)})`,
    edges: "log(0) = -Inf, log(x < 0) = NaN",
    vjp: (b, [x], _y, g) => [b.div(g, x!)],
    names: { dlc: "log", math: "log" },
  },
  sqrt: {
    ...f32,
    js: (x) => `Math.sqrt(${x(0)})`,
    wgsl: (x) => `sqrt(${x(0)})`,
    vjp: (b, _x, y, g) => [b.div(b.mul(g, b.lit(0.5)), y)],
    names: { dlc: "sqrt", math: "sqrt" },
  },
  tanh: {
    ...f32,
    js: (x) => `Math.tanh(${x(0)})`,
    wgsl: (x) => `dlc_tanh(${x(0)})`,
    wgslHelpers: ["tanh"],
    edges: "WGSL: a series near 0, the argument clamped to ±15 (tanh is ±1 in f32 there)",
    vjp: (b, _x, y, g) => [b.mul(g, b.sub(b.lit(1), b.mul(y, y)))],
    names: { dlc: "tanh", math: "tanh" },
  },
  abs: {
    ...anyUnary,
    js: (x) => `Math.abs(${x(0)})`,
    wgsl: (x) => `abs(${x(0)})`,
    vjp: (b, [x], _y, g) => [b.dtype(x!) === "f32" ? b.mul(g, b.sign(x!)) : undefined],
    names: { dlc: "abs", math: "abs" },
  },
  sign: {
    ...anyUnary,
    js: (x) => `(${x(0)} > 0 ? 1 : ${x(0)} < 0 ? -1 : 0)`,
    wgsl: (x) => `sign(${x(0)})`,
    edges: "sign(NaN) = 0 on the CPU",
    vjp: none,
    names: { math: "sign" },
  },
  sin: { ...f32, js: (x) => `Math.sin(${x(0)})`, wgsl: (x) => `sin(${x(0)})`, vjp: (b, [x], _y, g) => [b.mul(g, b.cos(x!))], names: { dlc: "sin", math: "sin" } },
  cos: { ...f32, js: (x) => `Math.cos(${x(0)})`, wgsl: (x) => `cos(${x(0)})`, vjp: (b, [x], _y, g) => [b.neg(b.mul(g, b.sin(x!)))], names: { dlc: "cos", math: "cos" } },
  erf: {
    ...f32,
    js: (x) => `h.erf(${x(0)})`,
    wgsl: (x) => `dlc_erf(${x(0)})`,
    wgslHelpers: ["erf"],
    edges: "WGSL: an f32 approximation, absolute error < 1.5e-7",
    // erf'(x) = 2 / sqrt(pi) e^(-x^2)
    vjp: (b, [x], _y, g) => [b.mul(g, b.mul(b.lit(2 / Math.sqrt(Math.PI)), b.exp(b.neg(b.mul(x!, x!)))))],
    names: { dlc: "erf" },
  },
  softplus: {
    ...f32,
    js: (x) => `(${x(0)} > 0 ? ${x(0)} : 0) + Math.log1p(Math.exp(-Math.abs(${x(0)})))`,
    wgsl: (x) => `dlc_softplus(${x(0)})`,
    wgslHelpers: ["log1p", "softplus"],
    edges: "computed as max(x, 0) + log1p(e^-|x|), which never overflows",
    // softplus'(x) = sigmoid(x) = (1 + tanh(x / 2)) / 2
    vjp: (b, [x], _y, g) => [b.mul(g, b.mul(b.add(b.tanh(b.mul(x!, b.lit(0.5))), b.lit(1)), b.lit(0.5)))],
    names: { dlc: "softplus" },
  },
  log1p: {
    ...f32,
    js: (x) => `Math.log1p(${x(0)})`,
    wgsl: (x) => `dlc_log1p(${x(0)})`,
    wgslHelpers: ["log1p"],
    edges: "log1p(-1) = -Inf, log1p(x < -1) = NaN",
    vjp: (b, [x], _y, g) => [b.div(g, b.add(x!, b.lit(1)))],
    names: { dlc: "log1p", math: "log1p" },
  },
  expm1: {
    ...f32,
    js: (x) => `Math.expm1(${x(0)})`,
    wgsl: (x) => `dlc_expm1(${x(0)})`,
    wgslHelpers: ["expm1"],
    vjp: (b, _x, y, g) => [b.mul(g, b.add(y, b.lit(1)))],
    names: { dlc: "expm1", math: "expm1" },
  },

  add: { ...arithmetic, js: (x) => `${x(0)} + ${x(1)}`, wgsl: (x) => `(${x(0)} + ${x(1)})`, vjp: (_b, _x, _y, g) => [g, g] },
  sub: { ...arithmetic, js: (x) => `${x(0)} - ${x(1)}`, wgsl: (x) => `(${x(0)} - ${x(1)})`, vjp: (b, _x, _y, g) => [g, b.neg(g)] },
  mul: { ...arithmetic, js: (x) => `${x(0)} * ${x(1)}`, wgsl: (x) => `(${x(0)} * ${x(1)})`, vjp: (b, [x0, x1], _y, g) => [b.mul(g, x1!), b.mul(g, x0!)] },
  div: {
    ...arithmetic,
    promoteInts: true,
    js: (x) => `${x(0)} / ${x(1)}`,
    wgsl: (x) => `(${x(0)} / ${x(1)})`,
    vjp: (b, [, x1], y, g) => [b.div(g, x1!), b.neg(b.div(b.mul(g, y), x1!))],
  },
  maximum: {
    ...arithmetic,
    js: (x) => `(${x(0)} > ${x(1)} ? ${x(0)} : ${x(1)})`,
    wgsl: (x) => `max(${x(0)}, ${x(1)})`,
    vjp: (b, [x0, x1], _y, g) => {
      const first = b.greater(x0!, x1!);
      return [b.where(first, g, b.lit(0)), b.where(first, b.lit(0), g)];
    },
    names: { dlc: "maximum" },
  },
  minimum: {
    ...arithmetic,
    js: (x) => `(${x(0)} < ${x(1)} ? ${x(0)} : ${x(1)})`,
    wgsl: (x) => `min(${x(0)}, ${x(1)})`,
    vjp: (b, [x0, x1], _y, g) => {
      const first = b.less(x0!, x1!);
      return [b.where(first, g, b.lit(0)), b.where(first, b.lit(0), g)];
    },
    names: { dlc: "minimum" },
  },
  pow: {
    ...arithmetic,
    promoteInts: true,
    js: (x) => `Math.pow(${x(0)}, ${x(1)})`,
    wgsl: (x, _t, ctx) => constPower(x(0), ctx.constant(1)) ?? `pow(${x(0)}, ${x(1)})`,
    edges: "WGSL's pow needs a base >= 0; constant integer exponents up to 4 become products",
    vjp: (b, [a, p], y, g) => {
      const da = b.mul(g, b.mul(p!, b.pow(a!, b.sub(p!, b.lit(1)))));
      if (b.isConst(p!)) return [da, undefined];
      const positive = b.greater(a!, b.lit(0));
      const safeA = b.where(positive, a!, b.lit(1));
      return [da, b.where(positive, b.mul(g, b.mul(y, b.log(safeA))), b.lit(0))];
    },
    names: { dlc: "pow" },
  },
  greater: { ...comparison, js: (x) => `(${x(0)} > ${x(1)} ? 1 : 0)`, wgsl: (x) => `select(0i, 1i, ${x(0)} > ${x(1)})`, vjp: none, names: { dlc: "greater" } },
  less: { ...comparison, js: (x) => `(${x(0)} < ${x(1)} ? 1 : 0)`, wgsl: (x) => `select(0i, 1i, ${x(0)} < ${x(1)})`, vjp: none, names: { dlc: "less" } },
  equal: { ...comparison, js: (x) => `(${x(0)} === ${x(1)} ? 1 : 0)`, wgsl: (x) => `select(0i, 1i, ${x(0)} == ${x(1)})`, vjp: none, names: { dlc: "equal" } },

  where: {
    arity: 3,
    operands: "select",
    result: "same",
    js: (x) => `(${x(0)} !== 0 ? ${x(1)} : ${x(2)})`,
    wgsl: (x) => {
      // WGSL's select(false, true, cond): the branches are emitted before the condition.
      const [b, a] = [x(2), x(1)];
      return `select(${b}, ${a}, ${x(0)} != 0i)`;
    },
    vjp: (b, [c], _y, g) => [undefined, b.where(c!, g, b.lit(0)), b.where(c!, b.lit(0), g)],
  },
  cast: {
    arity: 1,
    operands: "any",
    result: "cast",
    // f32 -> i32 truncates toward zero, as WGSL's i32(f32) does for values in range.
    js: (x, type) => (type === "i32" ? `Math.trunc(${x(0)})` : x(0)),
    wgsl: (x, type) => `${type}(${x(0)})`,
    vjp: (b, [x], y, g) => [b.dtype(x!) === "f32" && b.dtype(y) === "f32" ? g : undefined],
  },
  stopGradient: { ...anyUnary, js: (x) => x(0), wgsl: (x) => x(0), vjp: none, identity: true },
};

export function isElementwise(op: string): op is ElementwiseOp {
  return Object.hasOwn(ELEMENTWISE, op);
}
export function isUnary(op: string): op is UnaryOp {
  return (UNARY_OPS as readonly string[]).includes(op);
}
export function isBinary(op: string): op is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(op);
}

/** The names of JavaScript operands in generated code: a0, a1, a2. */
const operandName = (i: number) => `a${i}`;

/**
 * The scalar function of an op, compiled from its JavaScript formula (constant
 * folding and tests use it, so that folding and running agree). The code is
 * dlc's own table text: nothing from a model or an artifact is ever part of it.
 */
export function scalarFunction(op: ElementwiseOp, type: DType): (...xs: number[]) => number {
  const key = `${op}:${type}`;
  let f = scalarCache.get(key);
  if (!f) {
    const params = Array.from({ length: ELEMENTWISE[op].arity }, (_, i) => operandName(i));
    const body = `return ${ELEMENTWISE[op].js(operandName, type)};`;
    f = new Function("h", `return function ${op}(${params.join(", ")}) { ${body} };`)(JS_HELPERS) as (...xs: number[]) => number;
    scalarCache.set(key, f);
  }
  return f;
}

const scalarCache = new Map<string, (...xs: number[]) => number>();

export { operandName as jsOperandName };
