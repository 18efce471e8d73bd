// The training defaults (batch, epochs, seed, Adam's and SGD's hyperparameters,
// the configuration of a model without `train`) are written in one file.

import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sourceFiles } from "../../helpers/paths.js";

test("the training defaults are written in runtime/program/train-config.ts only", (t) => {
  const files = sourceFiles("compiler", "runtime", "cli");
  const offending = files
    .filter((f) => f !== "runtime/program/train-config.ts")
    .flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return ["0.999", "1e-8", "?? 0.9", "batch: 32", "epochs: 10"].filter((s) => text.includes(s)).map((s) => `${f}: ${s}`);
    });
  t.deepEqual(offending, []);
});
