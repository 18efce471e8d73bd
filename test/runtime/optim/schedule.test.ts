// Learning-rate schedules against values worked out by hand. t counts
// optimizer steps from 0 and `total` is the run's number of steps; the
// expected values are written as the closed forms they were computed from.

import test, { type ExecutionContext } from "ava";
import { learningRate } from "../../../runtime/optim/schedule.js";
import type { Schedule } from "../../../runtime/program/train-config.js";

const TOL = 1e-15;

/** learningRate(schedule, lr, t, total) for t = 0, 1, ... against `expected`. */
function expectRates(t: ExecutionContext, schedule: Schedule, lr: number, total: number, expected: readonly number[]): void {
  expected.forEach((want, step) => {
    const got = learningRate(schedule, lr, step, total);
    t.true(Math.abs(got - want) <= TOL * Math.max(1, Math.abs(want)), `t = ${step}: ${got}, expected ${want}`);
  });
}

const SQRT1_2 = Math.SQRT1_2; // cos(pi/4)

test("a constant schedule gives the base rate at every step, before and after the run's end", (t) => {
  expectRates(t, { kind: "constant" }, 0.03, 5, [0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03]);
  t.is(learningRate({ kind: "constant" }, 0.03, 1_000_000, 5), 0.03);
});

test("a step schedule multiplies the rate by gamma every `every` steps, the first change at t = every", (t) => {
  expectRates(t, { kind: "step", every: 3, gamma: 0.5 }, 0.8, 20, [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1]);
});

test("a step schedule with every = 1 decays geometrically from the first step on", (t) => {
  expectRates(t, { kind: "step", every: 1, gamma: 0.1 }, 2, 10, [2, 0.2, 0.02, 0.002]);
});

test("a step schedule does not depend on the run's length", (t) => {
  const s: Schedule = { kind: "step", every: 2, gamma: 0.5 };
  for (const total of [0, 1, 4, 100]) t.is(learningRate(s, 1, 5, total), 0.25, `total = ${total}`);
});

test("a cosine schedule falls from lr to min along half a cosine over the run", (t) => {
  // lr = 1, min = 0.1, T = 4: min + (lr - min)(1 + cos(pi t / 4)) / 2.
  expectRates(t, { kind: "cosine", min: 0.1 }, 1, 4, [1, 0.1 + 0.9 * (1 + SQRT1_2) / 2, 0.55, 0.1 + 0.9 * (1 - SQRT1_2) / 2, 0.1]);
});

test("a cosine schedule is halfway between lr and min at the run's midpoint", (t) => {
  t.true(Math.abs(learningRate({ kind: "cosine", min: 0.02 }, 0.1, 50, 100) - 0.06) <= TOL);
});

test("a cosine schedule reaches min at the run's end and stays there after it", (t) => {
  const s: Schedule = { kind: "cosine", min: 0.001 };
  for (const step of [10, 11, 15, 1000]) t.is(learningRate(s, 0.1, step, 10), 0.001, `t = ${step}`);
});

test("a cosine schedule with min 0 ends at 0", (t) => {
  expectRates(t, { kind: "cosine", min: 0 }, 2, 2, [2, 1, 0, 0]);
});

test("warmup rises linearly as lr (t + 1) / steps, reaching lr at its last step", (t) => {
  expectRates(t, { kind: "warmup", steps: 4, then: { kind: "constant" } }, 0.2, 100, [0.05, 0.1, 0.15, 0.2]);
});

test("warmup into a constant schedule holds lr from the end of warmup on", (t) => {
  const s: Schedule = { kind: "warmup", steps: 4, then: { kind: "constant" } };
  for (const step of [4, 5, 50, 99, 500]) t.is(learningRate(s, 0.2, step, 100), 0.2, `t = ${step}`);
});

test("after warmup the inner schedule starts again from t = 0", (t) => {
  // The step schedule's first decay comes `every` steps after warmup ends, not at t = every.
  expectRates(t, { kind: "warmup", steps: 2, then: { kind: "step", every: 2, gamma: 0.5 } }, 1, 100, [0.5, 1, 1, 1, 0.5, 0.5, 0.25]);
});

test("warmup into cosine anneals over the steps left after warmup, reaching min at the run's end", (t) => {
  // lr = 1, 2 warmup steps, a 6-step run: the cosine has T = 4 and starts at t = 2.
  const s: Schedule = { kind: "warmup", steps: 2, then: { kind: "cosine", min: 0 } };
  expectRates(t, s, 1, 6, [0.5, 1, 1, (1 + SQRT1_2) / 2, 0.5, (1 - SQRT1_2) / 2, 0, 0, 0]);
});

test("nested warmups each count from where the previous one ended", (t) => {
  // warmup(2) -> warmup(4) -> cosine(min 0.2), lr = 1, a 10-step run: the cosine has T = 10 - 2 - 4 = 4.
  const s: Schedule = { kind: "warmup", steps: 2, then: { kind: "warmup", steps: 4, then: { kind: "cosine", min: 0.2 } } };
  expectRates(t, s, 1, 10, [0.5, 1, 0.25, 0.5, 0.75, 1, 1, 0.2 + 0.8 * (1 + SQRT1_2) / 2, 0.6, 0.2 + 0.8 * (1 - SQRT1_2) / 2, 0.2, 0.2]);
});

test("a run shorter than its warmup never leaves it", (t) => {
  // total < steps: the inner cosine would have no steps; every step of the run is still in warmup.
  const s: Schedule = { kind: "warmup", steps: 10, then: { kind: "cosine", min: 0 } };
  expectRates(t, s, 1, 5, [0.1, 0.2, 0.3, 0.4, 0.5]);
});
