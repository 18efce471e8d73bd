import test from "ava";
import { canonical, dimEq, divDim, evalDim, mulDim, numel } from "../../../runtime/program/dim.js";

test("symbolic dims multiply into canonical monomials", (t) => {
  t.is(mulDim("batch", 784), "784*batch");
  t.is(mulDim(2, mulDim("seq", "batch")), "2*batch*seq");
  t.is(numel(["batch", 28, 28, 1]), "784*batch");
  t.is(mulDim(3, 4), 12);
});

test("exact quotients recover the symbol; inexact ones are undefined", (t) => {
  t.is(divDim("784*batch", 784), "batch");
  t.is(divDim("784*batch", "batch"), 784);
  t.is(divDim("784*batch", 3), undefined);
  t.is(divDim("batch", "seq"), undefined);
  t.is(divDim(12, 5), undefined);
});

test("equality is up to canonical form", (t) => {
  t.true(dimEq("batch*seq", "seq*batch"));
  t.is(canonical("1*batch"), "batch");
  t.false(dimEq("batch", 1));
});

test("dims evaluate against the run-time sizes", (t) => {
  t.is(evalDim("784*batch", { batch: 3 }), 2352);
  t.throws(() => evalDim("batch", {}), { message: /no value/ });
});
