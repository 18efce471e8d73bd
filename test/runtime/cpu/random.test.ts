// The random primitive on the CPU: the kernel and the fused loop (across
// block boundaries, in float32 and float64) against the definition element by
// element; a new key in the same buffers draws anew; and the draws look
// uniform: mean 1/2 and variance 1/12 within 4 sigma over 10^5 draws, every
// value in [0, 1), and streams for other salts or keys uncorrelated.

import test from "ava";
import type { Graph } from "../../../compiler/ir/node.js";
import { binary, full, mul, random, where } from "../../../compiler/ops/build.js";
import type { NDArray, Precision } from "../../../runtime/cpu/ndarray.js";
import { randomAt } from "../../../runtime/program/philox.js";
import { input } from "../../helpers/gradcheck.js";
import { lowerAndRun } from "../../helpers/run.js";

const keyOf = (k0: number, k1: number): NDArray => ({ shape: [2], data: Int32Array.from([k0, k1]) });

/** n draws for (salt, key), through the unfused kernel or the fused loop. */
function draws(n: number, salt: number, key: NDArray, fusion = false, precision: Precision = "f32"): ArrayLike<number> {
  const k = input("key", [2], "i32");
  // Times one, so that with fusion the draw is computed inside a loop.
  const r = mul(random(k, [n], salt), full(1, [n]));
  const g: Graph = { name: "g", inputs: [k] as never, outputs: [{ name: "r", node: r }] };
  return lowerAndRun(g, new Map([["key", key]]), new Map(), { precision, fusion }).get("r")!.data;
}

for (const fusion of [false, true]) {
  for (const precision of ["f32", "f64"] as const) {
    test(`${fusion ? "the fused loop" : "the kernel"} in ${precision} computes each element from its index (5000 elements: three blocks)`, (t) => {
      const got = draws(5000, 17, keyOf(-5, 0x7fffffff), fusion, precision);
      const bad = Array.from(got).findIndex((v, i) => v !== randomAt(i, 17, -5, 0x7fffffff));
      t.is(bad, -1, `element ${bad}`);
    });
  }
}

test("a fused program run again with another key draws for that key (the key is read on every run)", (t) => {
  const k = input("key", [2], "i32");
  const x = input("x", [3000]);
  const y = where(binary("less", random(k, [3000], 0), full(0.5, [3000])), x, full(0, [3000]));
  const g: Graph = { name: "g", inputs: [k, x] as never, outputs: [{ name: "y", node: y }] };
  const xs = { shape: [3000], data: new Float32Array(3000).fill(1) };
  const run = (key: NDArray) => [...lowerAndRun(g, new Map([["key", key], ["x", xs]]), new Map(), { precision: "f32", fusion: true }).get("y")!.data];
  const a = run(keyOf(1, 2));
  const b = run(keyOf(3, 4));
  t.notDeepEqual(a, b);
  t.deepEqual(run(keyOf(1, 2)), a);
  t.deepEqual(b, Array.from({ length: 3000 }, (_, i) => (randomAt(i, 0, 3, 4) < Math.fround(0.5) ? 1 : 0)));
});

const N = 100_000;

function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, variance: v / xs.length };
}

test("10^5 draws have mean 1/2 and variance 1/12 within 4 sigma, all in [0, 1), spread evenly over 16 bins", (t) => {
  const xs = draws(N, 0, keyOf(2024, 7));
  const { mean, variance } = moments(xs);
  // Uniform: var(mean) = (1/12) / n; var(sample variance) ~ (mu4 - sigma^4) / n = (1/80 - 1/144) / n.
  t.true(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / N), `mean ${mean}`);
  t.true(Math.abs(variance - 1 / 12) < 4 * Math.sqrt((1 / 80 - 1 / 144) / N), `variance ${variance}`);
  t.true(Array.from(xs).every((v) => v >= 0 && v < 1));
  const bins = new Array<number>(16).fill(0);
  for (let i = 0; i < N; i++) bins[Math.floor(xs[i]! * 16)]!++;
  const p = 1 / 16;
  for (const c of bins) t.true(Math.abs(c - N * p) < 4 * Math.sqrt(N * p * (1 - p)), `bin count ${c}`);
});

test("other salts and other keys give other streams: correlation within 4 sigma of 0", (t) => {
  const base = draws(N, 0, keyOf(0, 0));
  const others = { "salt 1": draws(N, 1, keyOf(0, 0)), "key [1, 0]": draws(N, 0, keyOf(1, 0)), "key [0, 1]": draws(N, 0, keyOf(0, 1)), "key [-1, 0]": draws(N, 0, keyOf(-1, 0)) };
  for (const [name, other] of Object.entries(others)) {
    let same = 0;
    let cov = 0;
    for (let i = 0; i < N; i++) {
      if (other[i] === base[i]) same++;
      cov += (other[i]! - 0.5) * (base[i]! - 0.5);
    }
    const corr = cov / N / (1 / 12);
    t.true(Math.abs(corr) < 4 / Math.sqrt(N), `${name}: correlation ${corr}`);
    // Equal 24-bit values by chance: about N / 2^24.
    t.true(same < 10, `${name}: ${same} equal draws`);
  }
  // Neighbouring elements of one stream are uncorrelated too.
  let lag = 0;
  for (let i = 1; i < N; i++) lag += (base[i]! - 0.5) * (base[i - 1]! - 0.5);
  t.true(Math.abs(lag / (N - 1) / (1 / 12)) < 4 / Math.sqrt(N));
});
