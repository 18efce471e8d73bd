import test from "ava";
import { parseCell } from "../../../runtime/data/cells.js";

test("plain decimals read as numbers: integers, signs, fractions, leading dots, exponents", (t) => {
  const cases: [string, number][] = [
    ["0", 0],
    ["1", 1],
    ["255", 255],
    ["-2.5", -2.5],
    ["+3", 3],
    [".5", 0.5],
    ["-.5", -0.5],
    ["1.", 1],
    ["0.25", 0.25],
    ["1e-3", 0.001],
    ["6.02E23", 6.02e23],
    ["007", 7],
    ["-0", -0],
  ];
  for (const [text, value] of cases) t.is(parseCell(text), value, text);
});

test("blanks around a number are allowed", (t) => {
  t.is(parseCell(" 1"), 1);
  t.is(parseCell("2.5 "), 2.5);
  t.is(parseCell("\t-3 "), -3);
});

test("empty, blank, non-numeric, NaN, infinite and non-decimal cells are NaN", (t) => {
  for (const text of ["", " ", "abc", "1,5", "1 2", "NaN", "nan", "Infinity", "-Infinity", "1e999", "0x1f", "0X1F", "0b11", "0o17", " 0x1", "1_000", "--1", ".", "e5"]) {
    t.true(Number.isNaN(parseCell(text)), JSON.stringify(text));
  }
});
