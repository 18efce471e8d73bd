import test from "ava";
import type { Init } from "../../../runtime/program/ops.js";
import { fans, initialize, nameHash } from "../../../runtime/init/init.js";

function stats(x: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = sum / x.length;
  let sq = 0;
  for (const v of x) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / x.length) };
}

function fractionWithin(x: Float32Array, bound: number): number {
  let count = 0;
  for (const v of x) if (Math.abs(v) <= bound) count++;
  return count / x.length;
}

test("fans read [in, out] as a dense layer", (t) => {
  t.deepEqual(fans([784, 128]), { fanIn: 784, fanOut: 128 });
});

test("fans multiply the receptive field into both fans for a [kh, kw, in, out] kernel", (t) => {
  t.deepEqual(fans([3, 5, 16, 32]), { fanIn: 3 * 5 * 16, fanOut: 3 * 5 * 32 });
});

test("fans of a 1-D shape are its length and of a scalar are 1", (t) => {
  t.deepEqual(fans([10]), { fanIn: 10, fanOut: 10 });
  t.deepEqual(fans([]), { fanIn: 1, fanOut: 1 });
});

test("the name hash is 32-bit FNV-1a over UTF-8", (t) => {
  // Published FNV-1a test vectors; "é" hashes its UTF-8 bytes c3 a9, not the UTF-16 unit e9.
  t.is(nameHash(""), 0x811c9dc5);
  t.is(nameHash("a"), 0xe40c292c);
  t.is(nameHash("foobar"), 0xbf9cf968);
  t.is(nameHash("\u00e9"), 0x1e9de8c1);
});

test("the same init, shape, seed and name give bit-identical values", (t) => {
  const a = initialize({ kind: "he" }, [64, 32], 7, "dense1.w");
  const b = initialize({ kind: "he" }, [64, 32], 7, "dense1.w");
  t.deepEqual(new Uint32Array(a.buffer), new Uint32Array(b.buffer));
});

test("values are pinned across versions for a fixed seed and name", (t) => {
  // Every backend and every release must start from these weights; a change here
  // changes every trained model's starting point, so it must be deliberate.
  const w = initialize({ kind: "normal", std: 1 }, [4], 42, "w");
  t.deepEqual(Array.from(w), [0.9211242198944092, -0.25260332226753235, -0.013347691856324673, 0.4824996888637543]);
});

test("a different seed gives different values", (t) => {
  const a = initialize({ kind: "glorot" }, [16, 16], 1, "w");
  const b = initialize({ kind: "glorot" }, [16, 16], 2, "w");
  t.notDeepEqual(a, b);
});

test("parameters with different names get different values", (t) => {
  const a = initialize({ kind: "glorot" }, [16, 16], 1, "layer1.w");
  const b = initialize({ kind: "glorot" }, [16, 16], 1, "layer2.w");
  t.notDeepEqual(a, b);
});

test("a parameter's values do not depend on which other parameters are initialized", (t) => {
  const alone = initialize({ kind: "lecun" }, [32, 8], 3, "head.w");
  initialize({ kind: "he" }, [100, 100], 3, "body.w");
  initialize({ kind: "glorot" }, [8, 8], 3, "extra.w");
  const afterOthers = initialize({ kind: "lecun" }, [32, 8], 3, "head.w");
  t.deepEqual(afterOthers, alone);
});

test("zeros, ones and const fill exactly", (t) => {
  t.deepEqual(Array.from(initialize({ kind: "zeros" }, [2, 3], 0, "z")), [0, 0, 0, 0, 0, 0]);
  t.deepEqual(Array.from(initialize({ kind: "ones" }, [3], 0, "o")), [1, 1, 1]);
  t.deepEqual(Array.from(initialize({ kind: "const", value: 0.25 }, [2, 2], 0, "c")), [0.25, 0.25, 0.25, 0.25]);
});

test("a scalar parameter has one value", (t) => {
  t.deepEqual(Array.from(initialize({ kind: "const", value: -3 }, [], 0, "s")), [-3]);
  t.is(initialize({ kind: "he" }, [], 0, "s").length, 1);
});

test("an empty shape dimension gives an empty tensor", (t) => {
  t.is(initialize({ kind: "he" }, [0, 5], 0, "e").length, 0);
});

// Statistical checks on 512x512 = 262144 samples. The sample mean of n draws has
// standard error std/sqrt(n), so |mean| < 4*std/sqrt(n) fails by chance with
// probability < 1e-4; the sample std's relative standard error is about
// 1/sqrt(2n) = 0.14% (normal) or less (uniform), so a 2% band is > 10 sigma.
// For a normal, P(|x| <= std) = 0.6827; its standard error here is 0.0009, so
// +-0.005 separates it from a uniform of the same std (P = 0.577).
const N = 512 * 512;
const FAN = 512;
const statisticalCases: { init: Init; std: number; shape: "normal" | "uniform" }[] = [
  { init: { kind: "he" }, std: Math.sqrt(2 / FAN), shape: "normal" },
  { init: { kind: "lecun" }, std: Math.sqrt(1 / FAN), shape: "normal" },
  { init: { kind: "normal", std: 0.02 }, std: 0.02, shape: "normal" },
  { init: { kind: "glorot" }, std: Math.sqrt(6 / (2 * FAN)) / Math.sqrt(3), shape: "uniform" },
  { init: { kind: "uniform", limit: 0.1 }, std: 0.1 / Math.sqrt(3), shape: "uniform" },
];

for (const { init, std, shape } of statisticalCases) {
  test(`${init.kind} samples have mean 0 and std ${std.toPrecision(4)} on a 512x512 parameter`, (t) => {
    const x = initialize(init, [FAN, FAN], 11, `stat.${init.kind}`);
    const s = stats(x);
    t.true(Math.abs(s.mean) < (4 * std) / Math.sqrt(N), `mean ${s.mean}`);
    t.true(Math.abs(s.std / std - 1) < 0.02, `std ${s.std} vs ${std}`);
  });

  test(`${init.kind} samples are ${shape}ly distributed`, (t) => {
    const x = initialize(init, [FAN, FAN], 12, `shape.${init.kind}`);
    const within = fractionWithin(x, std);
    const expected = shape === "normal" ? 0.6827 : 1 / Math.sqrt(3);
    t.true(Math.abs(within - expected) < 0.005, `P(|x| <= std) = ${within}, expected ${expected}`);
  });
}

test("glorot samples stay within the limit sqrt(6 / (fanIn + fanOut))", (t) => {
  const shape = [3, 3, 64, 128];
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.fround(Math.sqrt(6 / (fanIn + fanOut)));
  const x = initialize({ kind: "glorot" }, shape, 5, "conv.k");
  let max = 0;
  for (const v of x) max = Math.max(max, Math.abs(v));
  t.true(max <= limit, `max |x| ${max} > ${limit}`);
  t.true(max > 0.99 * limit, "the samples should come close to the limit");
});

test("uniform samples stay within the limit", (t) => {
  const x = initialize({ kind: "uniform", limit: 0.5 }, [1000], 5, "u");
  t.true(x.every((v) => Math.abs(v) <= 0.5));
});

test("he scales with the conv kernel's fanIn", (t) => {
  const shape = [3, 3, 32, 64];
  const x = initialize({ kind: "he" }, shape, 9, "conv.k");
  t.true(Math.abs(stats(x).std / Math.sqrt(2 / (3 * 3 * 32)) - 1) < 0.02);
});

test("a negative std or limit is refused", (t) => {
  t.throws(() => initialize({ kind: "normal", std: -1 }, [2], 0, "w"), { instanceOf: RangeError, message: /std -1/ });
  t.throws(() => initialize({ kind: "uniform", limit: Number.NaN }, [2], 0, "w"), { instanceOf: RangeError, message: /limit NaN/ });
});

test("a shape that is not non-negative integers is refused", (t) => {
  t.throws(() => initialize({ kind: "zeros" }, [2, -1], 0, "w"), { instanceOf: RangeError, message: /"w": shape \[2, -1\]/ });
  t.throws(() => initialize({ kind: "zeros" }, [1.5], 0, "w"), { instanceOf: RangeError });
});
