// The op table is the one definition of every elementwise op: its scalar
// functions match hand-computed and library values (including the edges its
// entries promise), the generated CPU loops compute exactly what the scalar
// functions do, and every name the table gives an op reaches the model language.

import test from "ava";
import { dlcLibrary } from "../../../compiler/frontend/library.js";
import { Trace } from "../../../compiler/frontend/trace.js";
import { elementwiseLoop } from "../../../runtime/cpu/kernels/loops.js";
import { ELEMENTWISE, ELEMENTWISE_OPS, scalarFunction } from "../../../runtime/program/elementwise.js";

const close = (got: number, want: number, rel: number) => Math.abs(got - want) <= rel * Math.max(Math.abs(want), 1e-300);

test("erf matches reference values to 1e-14 (relative) from 0 to 6 and is odd", (t) => {
  const erf = scalarFunction("erf", "f32");
  // erf values from Abramowitz & Stegun table 7.1 and erfc(x) = 1 - erf(x) at large x.
  const table: [number, number][] = [
    [0, 0],
    [1e-8, 1.1283791670955126e-8],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [3.9, 0.9999999652077514],
    [4.1, 0.9999999932999724],
    [6, 1],
  ];
  t.true(Object.is(erf(-0), -0), "erf(-0) is -0");
  for (const [x, want] of table) {
    t.true(close(erf(x), want, 1e-14) || (want === 0 && erf(x) === 0), `erf(${x}) = ${erf(x)}, want ${want}`);
    t.true(erf(-x) === -erf(x), `erf is odd at ${x}`);
  }
  t.is(erf(Infinity), 1);
  t.true(Number.isNaN(erf(NaN)));
});

test("softplus, log1p and expm1 keep their promises at the edges", (t) => {
  const softplus = scalarFunction("softplus", "f32");
  t.is(softplus(1000), 1000, "no overflow for large x");
  t.is(softplus(-1000), 0);
  t.true(close(softplus(0), Math.LN2, 1e-15));
  t.true(close(softplus(-30), Math.exp(-30), 1e-12), "e^x for very negative x, without cancellation");
  t.true(close(scalarFunction("log1p", "f32")(1e-12), 1e-12 - 5e-25, 1e-15));
  t.true(close(scalarFunction("expm1", "f32")(1e-12), 1e-12 + 5e-25, 1e-15));
  t.true(close(scalarFunction("sin", "f32")(Math.PI / 6), 0.5, 1e-15));
  t.true(close(scalarFunction("cos", "f32")(Math.PI / 3), 0.5, 1e-15));
});

test("casts truncate toward zero; comparisons and sign give integers", (t) => {
  t.is(scalarFunction("cast", "i32")(-2.7), -2);
  t.is(scalarFunction("cast", "f32")(7), 7);
  t.is(scalarFunction("greater", "i32")(2, 1), 1);
  t.is(scalarFunction("equal", "i32")(2, 1), 0);
  t.is(scalarFunction("sign", "f32")(-0.5), -1);
  t.is(scalarFunction("sign", "f32")(NaN), 0, "the edge the table states");
  t.is(scalarFunction("where", "f32")(0, 1, 2), 2);
});

test("every op's generated CPU loop computes its scalar function, at offsets, in f32 and f64", (t) => {
  const n = 37;
  for (const op of ELEMENTWISE_OPS) {
    const def = ELEMENTWISE[op];
    const type = def.result === "i32" ? "i32" : "f32";
    const f = scalarFunction(op, type);
    const operands = Array.from({ length: def.arity }, (_, k) =>
      k === 0 && def.operands === "select" ? Int32Array.from({ length: n + 3 }, (_, i) => i % 2) : Float64Array.from({ length: n + 3 }, (_, i) => 0.1 + ((i * 7 + k * 3) % 11) / 5),
    );
    const out = type === "i32" ? new Int32Array(n + 1) : new Float64Array(n + 1);
    const args: (Float64Array | Int32Array | number)[] = [];
    operands.forEach((x, k) => args.push(x, k + 1));
    elementwiseLoop(op, type)(out, 1, ...args, n);
    for (let i = 0; i < n; i++) {
      const want = f(...operands.map((x, k) => x[i + k + 1]!));
      const got = out[i + 1]!;
      if (!(Object.is(got, type === "i32" ? want | 0 : want) || (Number.isNaN(got) && Number.isNaN(want)))) {
        t.fail(`${op}[${i}]: loop gave ${got}, scalar function ${want}`);
        return;
      }
    }
    t.is(out[0], 0, `${op} writes nothing before its offset`);
  }
});

test("every name the table gives an op is a function of the dlc library", (t) => {
  const library = dlcLibrary(new Trace());
  for (const op of ELEMENTWISE_OPS) {
    const name = ELEMENTWISE[op].names?.dlc;
    if (name) t.true(library.has(name), `${op} is imported as ${name}`);
  }
});
