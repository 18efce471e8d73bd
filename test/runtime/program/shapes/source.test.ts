// The type rule of `random`: an i32[2] key, an integer salt below 2^32, a
// valid shape (symbolic sizes allowed); each refusal says what was wrong.

import test from "ava";
import { inferType, ShapeError } from "../../../../runtime/program/shapes/index.js";

const key = { shape: [2], dtype: "i32" } as const;

test("random is f32 of its shape, symbolic sizes included", (t) => {
  t.deepEqual(inferType("random", [key], { shape: ["batch", 3], salt: 0 }), { shape: ["batch", 3], dtype: "f32" });
  t.deepEqual(inferType("random", [key], { shape: [], salt: 2 ** 32 - 1 }), { shape: [], dtype: "f32" });
  t.deepEqual(inferType("random", [key], { shape: ["2*batch", 0], salt: 7 }), { shape: ["2*batch", 0], dtype: "f32" });
});

const refused = (t: import("ava").ExecutionContext, f: () => unknown, message: RegExp) => {
  const e = t.throws(f, { instanceOf: ShapeError });
  t.regex(e?.message ?? "", message);
};

test("a key that is not i32[2] is refused", (t) => {
  refused(t, () => inferType("random", [{ shape: [2], dtype: "f32" }], { shape: [3], salt: 0 }), /random: the key must be i32\[2\], got f32\[2\]/);
  refused(t, () => inferType("random", [{ shape: [3], dtype: "i32" }], { shape: [3], salt: 0 }), /got i32\[3\]/);
  refused(t, () => inferType("random", [{ shape: [1, 2], dtype: "i32" }], { shape: [3], salt: 0 }), /got i32\[1, 2\]/);
  refused(t, () => inferType("random", [{ shape: ["batch"], dtype: "i32" }], { shape: [3], salt: 0 }), /got i32\[batch\]/);
});

test("a salt that is not an integer in [0, 2^32) is refused", (t) => {
  for (const salt of [-1, 1.5, 2 ** 32, NaN, Infinity]) refused(t, () => inferType("random", [key], { shape: [3], salt }), /random: salt .* is not an integer in \[0, 2\^32\)/);
});

test("a malformed shape is refused", (t) => {
  for (const d of [-1, 2.5, "", "a b", "3*"]) refused(t, () => inferType("random", [key], { shape: [4, d], salt: 0 }), /random: .* is not a shape/);
});

test("random takes exactly one input", (t) => {
  t.throws(() => inferType("random", [], { shape: [3], salt: 0 }), { message: /random takes 1 inputs, got 0/ });
});
