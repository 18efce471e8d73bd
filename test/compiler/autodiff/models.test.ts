// Whole models: the simplified training graph's gradient of the loss, for
// every model in models/, agrees with central finite differences of the loss
// (traced in training mode, with a fixed random key, so dropout's masks are
// fixed) in float64 on a random batch (a sample of coordinates of every
// trainable parameter, h = 1e-5: the rounding error of a difference, eps |loss| / h, stays well below the
// smallest gradients of the transformer's attention, normwise relative error <= 1e-6).

import test from "ava";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { gradName } from "../../../compiler/autodiff/grad.js";
import { Compilation } from "../../../compiler/compilation.js";
import { classCount } from "../../../compiler/ir/analysis.js";
import { trainingLoss } from "../../../compiler/ir/program.js";
import { KEY_INPUT } from "../../../runtime/program/abi.js";
import { verifyGraph } from "../../../compiler/ir/verify.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { Random } from "../../../runtime/random.js";
import { relativeError, sample } from "../../helpers/gradcheck.js";
import { ROOT } from "../../helpers/paths.js";
import { lowerAndRun } from "../../helpers/run.js";

const models = readdirSync(join(ROOT, "models")).filter((f) => f.endsWith(".ts"));
const BATCH = 3;
const COORDS = 8;

for (const file of models) {
  test(`models/${file}: the training graph's gradients match finite differences`, (t) => {
    const compilation = new Compilation(join(ROOT, "models", file), { check: (g) => verifyGraph(g) });
    const program = compilation.source();
    const loss = trainingLoss(program)!;
    const train = compilation.training().graph;
    const rng = new Random(file.length, 5);

    const feeds = new Map<string, NDArray>();
    for (const i of loss.inputs) {
      if (i.attrs.name === KEY_INPUT) {
        feeds.set(KEY_INPUT, { shape: [2], data: Int32Array.of(7, 1) });
        continue;
      }
      const shape = i.shape.map((d) => (typeof d === "number" ? d : BATCH));
      if (i.dtype === "i32") {
        const classes = classCount(loss, i.attrs.name)!;
        t.true(classes > 1, `${i.attrs.name} has a class count`);
        feeds.set(i.attrs.name, { shape, data: Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(classes)) });
      } else {
        const pixels = i.shape.includes(784);
        feeds.set(i.attrs.name, { shape, data: sample(rng, shape, pixels ? { lo: 0, hi: 255 } : { lo: -2, hi: 2 }) });
      }
    }
    const params = new Map<string, NDArray>(program.params.map((p) => [p.name, { shape: [...p.shape], data: sample(rng, p.shape, { lo: -0.3, hi: 0.3 }) }]));

    const out = lowerAndRun(train, feeds, params);
    const f = () => lowerAndRun(loss, feeds, params).get("loss")!.data[0]!;
    t.true(Math.abs(out.get("loss")!.data[0]! - f()) <= 1e-12 * Math.abs(f()), "the training graph computes the same loss");

    const h = 1e-5;
    for (const p of program.params.filter((d) => d.trainable !== false)) {
      const x = params.get(p.name)!.data;
      const g = out.get(gradName(p.name))!.data;
      const coords = Array.from({ length: Math.min(COORDS, x.length) }, () => rng.int(x.length));
      const analytic = coords.map((j) => g[j]!);
      const numeric = coords.map((j) => {
        const saved = x[j]!;
        x[j] = saved + h;
        const up = f();
        x[j] = saved - h;
        const down = f();
        x[j] = saved;
        return (up - down) / (2 * h);
      });
      const err = relativeError(analytic, numeric);
      t.true(err <= 1e-6, `${p.name}: relative error ${err.toExponential(2)}\n  symbolic ${analytic.map((v) => v.toPrecision(6))}\n  numeric  ${numeric.map((v) => v.toPrecision(6))}`);
    }
  });
}
