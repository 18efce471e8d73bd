// The test helpers are part of what the tests claim: a golden comparison that
// passes on a missing file, or an error measure that compares a prefix, would
// let a wrong result through.

import test from "ava";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matchGolden } from "./golden.js";
import { relativeError } from "./gradcheck.js";

/** A stand-in for ava's context that records what the helper concluded. */
function recorder() {
  const calls: string[] = [];
  return {
    calls,
    t: {
      pass: () => void calls.push("pass"),
      fail: (message?: string) => void calls.push(`fail: ${message}`),
      is: (a: unknown, b: unknown) => void calls.push(a === b ? "is: equal" : "is: differs"),
    } as never,
  };
}

test("a missing golden file fails, and is not written, outside an update run", (t) => {
  const path = join(mkdtempSync(join(tmpdir(), "dlc-golden-")), "x.ir");
  const r = recorder();
  matchGolden(r.t, "text\n", path, false);
  t.is(r.calls.length, 1);
  t.regex(r.calls[0]!, /^fail: golden file .*x\.ir is missing/);
  t.false(existsSync(path));
});

test("an existing golden file is compared; an update run rewrites it", (t) => {
  const path = join(mkdtempSync(join(tmpdir(), "dlc-golden-")), "x.ir");
  writeFileSync(path, "old\n");
  const r = recorder();
  matchGolden(r.t, "old\n", path, false);
  matchGolden(r.t, "new\n", path, false);
  t.deepEqual(r.calls, ["is: equal", "is: differs"]);
  t.is(readFileSync(path, "utf8"), "old\n");
  matchGolden(r.t, "new\n", path, true);
  t.is(readFileSync(path, "utf8"), "new\n");
});

test("relativeError refuses arrays of different lengths or shapes", (t) => {
  t.is(relativeError([1, 2], [1, 2]), 0);
  t.throws(() => relativeError([1, 2, 3], [1, 2]), { message: "relativeError: lengths differ, 3 vs 2" });
  t.throws(() => relativeError([1], [1, 2]), { message: "relativeError: lengths differ, 1 vs 2" });
  t.throws(() => relativeError({ shape: [2, 3], data: new Float64Array(6) }, { shape: [3, 2], data: new Float64Array(6) }), { message: "relativeError: shapes differ, [2, 3] vs [3, 2]" });
  t.is(relativeError({ shape: [2], data: [3, 4] }, [3, 4]), 0, "a flat array is compared by length only");
});
