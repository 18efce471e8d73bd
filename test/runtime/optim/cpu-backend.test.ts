// End to end through the CPU backend: a model file built with
// Compilation.model({ training: true }) (fused, float32) takes 3 steps with
// CpuBackend.step, and the parameters it reads back after every step agree
// with the float64 step graph (unfused, lowerAndRun) to a normwise relative
// error of 1e-5 per parameter. Inputs, starting parameters and learning rates
// are float32 values, so both runs start from the same numbers.

import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { CpuBackend } from "../../../runtime/cpu/backend.js";
import type { NDArray } from "../../../runtime/cpu/ndarray.js";
import { relativeError } from "../../helpers/gradcheck.js";
import { batches, initialParams, lrAt, modelSource, PARAMS, runStepGraph, type OptimizerCall, type OptimizerOptions } from "../../compiler/optim/fixture.js";

const STEPS = 3;
const TOL = 1e-5;
const SEED = 11;

const CASES: readonly { name: string; call: OptimizerCall; options: OptimizerOptions }[] = [
  { name: "adamw with clipping", call: "adamw", options: { lr: 0.02, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, clipNorm: 0.1 } },
  { name: "sgd with nesterov momentum and weight decay", call: "sgd", options: { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 } },
];

const float32 = (batch: Map<string, NDArray>): Map<string, NDArray> => new Map([...batch].map(([k, a]) => [k, { shape: a.shape, data: Float32Array.from(a.data) }]));

for (const c of CASES) {
  test(`${c.name}: ${STEPS} steps on the CPU backend in float32 agree with the float64 step graph`, async (t) => {
    const file = join(mkdtempSync(join(tmpdir(), "dlc-test-")), "model.ts");
    writeFileSync(file, modelSource(c.call, c.options));
    const data = batches(SEED, STEPS);
    const start = initialParams(SEED);
    const baseLr = c.options.lr as number;

    const compilation = new Compilation(file);
    const step = compilation.step();
    const reference = runStepGraph(step, data, start, baseLr);

    const model = compilation.model({ training: true });
    t.deepEqual(
      model.train!.state.map((s) => s.name),
      step.state.map((s) => s.name),
      "the built model keeps the step graph's optimizer state",
    );
    const backend = new CpuBackend(model);
    await backend.load(new Map([...start].map(([k, v]) => [k, Float32Array.from(v)])));
    for (let k = 0; k < STEPS; k++) {
      const loss = await backend.step(float32(data[k]!), lrAt(baseLr, k + 1), k + 1, true);
      const lossErr = Math.abs(loss! - reference.loss[k]!) / Math.abs(reference.loss[k]!);
      t.true(lossErr <= TOL, `step ${k + 1}: loss ${loss} vs ${reference.loss[k]} (relative error ${lossErr.toExponential(2)})`);
      const values = await backend.read();
      for (const p of PARAMS) {
        const got = values.get(p.name)!;
        const want = reference.params[k]!.get(p.name)!;
        const err = relativeError(got, want);
        t.true(err <= TOL, `step ${k + 1}, ${p.name}: relative error ${err.toExponential(2)} > ${TOL}\n  cpu backend ${[...got].slice(0, 4)}\n  float64     ${[...want].slice(0, 4)}`);
      }
    }
    backend.dispose();
  });
}
