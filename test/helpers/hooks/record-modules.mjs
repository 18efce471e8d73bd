// A module resolve hook that appends every resolved URL to $DLC_MODULE_LOG:
// tests use it to prove which modules a process loads.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.DLC_MODULE_LOG) appendFileSync(process.env.DLC_MODULE_LOG, result.url + "\n");
  return result;
}
