// The loops every emitted kernel is made of, written once: a do-while over a
// counter (the GEMM's and the kernels' inner loops, where the trip count is
// known to be positive) and a for over constant bounds, which emits nothing
// for an empty range.

import type { FunctionBuilder, Local } from "./assembler.js";

/** `body`, then `counter += step`, repeating while `counter < limit` (signed): the body runs at least once. */
export function doWhileBelow(f: FunctionBuilder, counter: Local, step: number | Local, limit: number | Local, body: () => void): void {
  f.loop((again) => {
    body();
    f.get(counter);
    if (typeof step === "number") f.i32.const(step);
    else f.get(step);
    f.i32.add();
    f.local.tee(counter);
    if (typeof limit === "number") f.i32.const(limit);
    else f.get(limit);
    f.i32.lt_s();
    f.br_if(again);
  });
}

/** for (counter = from; counter < to; counter += step) body, with constant bounds; nothing when the range is empty. */
export function forRange(f: FunctionBuilder, counter: Local, from: number, to: number, body: () => void, step = 1): void {
  if (to <= from) return;
  f.i32.const(from);
  f.set(counter);
  doWhileBelow(f, counter, step, to, body);
}

/** x += by (i32). */
export function bump(f: FunctionBuilder, x: Local, by: number): void {
  f.get(x);
  f.i32.const(by);
  f.i32.add();
  f.set(x);
}
