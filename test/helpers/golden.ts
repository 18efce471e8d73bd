// Golden files: compare against a stored expectation, or rewrite it when
// UPDATE_GOLDEN=1 is set (then review the diff like any other change).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ExecutionContext } from "ava";

export function matchGolden(t: ExecutionContext, actual: string, path: string): void {
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    if (process.env.CI && !existsSync(path)) t.fail(`golden file ${path} is missing`);
    writeFileSync(path, actual);
    t.pass();
    return;
  }
  t.is(actual, readFileSync(path, "utf8"), `differs from ${path} (UPDATE_GOLDEN=1 rewrites it)`);
}
