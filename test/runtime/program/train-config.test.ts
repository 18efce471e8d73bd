// The training defaults (batch, epochs, seed, Adam's and SGD's hyperparameters,
// the configuration of a model without \`train\`) are written in one file.

import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../../helpers/paths.js";

/** Every .ts and .js file under \`dir\`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

test("the training defaults are written in runtime/program/train-config.ts only", (t) => {
  const files = ["compiler", "runtime", "cli"].flatMap((d) => sources(join(ROOT, d))).map((f) => relative(ROOT, f));
  const offending = files
    .filter((f) => f !== "runtime/program/train-config.ts")
    .flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return ["0.999", "1e-8", "?? 0.9", "batch: 32", "epochs: 10"].filter((s) => text.includes(s)).map((s) => `${f}: ${s}`);
    });
  t.deepEqual(offending, []);
});
