// Philox4x32-10 in JavaScript: the Random123 known-answer vectors, the
// high-word multiply against BigInt, and the float conversion at its ends.

import test from "ava";
import { mulhi, philox4x32, randomAt, uniform } from "../../../runtime/program/philox.js";
import { Random } from "../../../runtime/random.js";
import { hexWords, PHILOX_KAT } from "../../helpers/philox.js";

const hex = hexWords;

for (const { ctr, key, out } of PHILOX_KAT) {
  test(`philox4x32-10 of counter ${hex(ctr)}, key ${hex(key)} is Random123's ${hex(out)}`, (t) => {
    t.is(hex(philox4x32(ctr, key)), hex(out));
  });
}

test("an i32 key word is read as its bits", (t) => {
  t.deepEqual(philox4x32([0, 0, 0, 0], [-1, -1]), philox4x32([0, 0, 0, 0], [0xffffffff, 0xffffffff]));
});

test("mulhi is the high word of the 64-bit product (BigInt), extremes included", (t) => {
  const rng = new Random(7);
  const pairs: [number, number][] = [[0, 0], [0xffffffff, 0xffffffff], [0xffffffff, 1], [0x10000, 0x10000], [0xffff, 0xffff], [0xd2511f53, 0xffffffff], [0xcd9e8d57, 0x80000000]];
  for (let i = 0; i < 10000; i++) pairs.push([rng.nextU32(), rng.nextU32()]);
  for (const [a, b] of pairs) {
    const want = Number((BigInt(a) * BigInt(b)) >> 32n);
    if (mulhi(a, b) !== want) return t.fail(`mulhi(${a}, ${b}) = ${mulhi(a, b)}, expected ${want}`);
  }
  t.pass();
});

test("uniform maps the top 24 bits into [0, 1), exactly in float32", (t) => {
  t.is(uniform(0), 0);
  t.is(uniform(0xff), 0);
  t.is(uniform(0x100), 2 ** -24);
  t.is(uniform(0xffffffff), 1 - 2 ** -24);
  t.true(uniform(0xffffffff) < 1);
  for (const w of [0x12345678, 0x80000000, 0xdeadbeef]) t.is(Math.fround(uniform(w)), uniform(w));
});

test("randomAt is the first word at counter (index, salt, 0, 0)", (t) => {
  const w = philox4x32([5, 9, 0, 0], [0x11, 0x22])[0];
  t.is(randomAt(5, 9, 0x11, 0x22), (w >>> 8) / 2 ** 24);
});
