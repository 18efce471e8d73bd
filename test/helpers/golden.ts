// Golden files: compare against a stored expectation, or write it when
// UPDATE_GOLDEN=1 is set (then review the diff like any other change). Outside
// an update run a missing golden file fails the test: writing it silently would
// make the test pass against whatever the code printed.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ExecutionContext } from "ava";

export const updatingGolden = (): boolean => process.env.UPDATE_GOLDEN === "1";

export function matchGolden(t: Pick<ExecutionContext, "is" | "fail" | "pass">, actual: string, path: string, update = updatingGolden()): void {
  if (update) {
    writeFileSync(path, actual);
    t.pass();
    return;
  }
  if (!existsSync(path)) {
    t.fail(`golden file ${path} is missing; run with UPDATE_GOLDEN=1 to write it, then review it`);
    return;
  }
  t.is(actual, readFileSync(path, "utf8"), `differs from ${path} (UPDATE_GOLDEN=1 rewrites it)`);
}
