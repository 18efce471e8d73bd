// `dlc serve` in a real browser (Chromium, headless, WebGPU on SwiftShader):
// the page trains iris and the digits MLP to a useful accuracy on WebGPU,
// and iris on the CPU (WebAssembly); the weights it downloads are the weights
// Node trains from the same seed (same split, same seeded shuffles) on the
// same backend kind, within a stated tolerance; the CLI reads the download
// and predicts what the page predicted; and a served checkpoint is evaluated
// in the page as `dlc eval` evaluates it. A browser that does not start, or
// a page without WebGPU, fails these tests: none is skipped.

import test, { type ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Request } from "playwright-core";
import type { Tensor } from "../../runtime/api/tensor.js";
import { Model } from "../../runtime/api/model.js";
import { loadCheckpoint } from "../../runtime/checkpoint/file.js";
import { downloadWeights, launchChromium, openPage, pagePredictions, serve, trainInPage, type TrainSettings } from "../helpers/browser.js";
import { dlc } from "../helpers/cli.js";

/**
 * Browser against Node, parameter by parameter. Both run the same WGSL
 * kernels in float32 on different software adapters (SwiftShader, lavapipe),
 * whose roundings may differ in the last bit: after the runs below the
 * largest difference is a few 1e-6. Runs much longer drift apart for good
 * once such a difference tips a ReLU or the sign of one of Adam's normalized
 * steps (measured on the digits: none of 8192 hidden weights off by 1e-4
 * after 4 epochs, 256 after 10), so the runs compared stay short. The CPU
 * runs the same WebAssembly kernels in both engines (V8 either way): bit for
 * bit the same.
 */
const WEBGPU_TOLERANCE = 1e-4;
const CPU_TOLERANCE = 0;

const dir = mkdtempSync(join(tmpdir(), "dlc-browser-"));
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;

test.before(async () => {
  for (const model of ["iris", "digits"]) {
    const r = dlc(["compile", `models/${model}.ts`, "-o", join(dir, `${model}.dlc`), "--quiet"]);
    if (r.status !== 0) throw new Error(r.stderr);
  }
  chromium = await launchChromium();
});

test.after.always(async () => {
  await chromium?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly model: "iris" | "digits";
  readonly data: string;
  readonly settings: TrainSettings;
  /** The least test accuracy a run is expected to reach. */
  readonly accuracy: number;
}

// iris as models/iris.ts's header trains it (1,600 steps); the digits for 4 of their 30 epochs (180 steps).
const IRIS: Case = { model: "iris", data: "data/iris.csv", settings: { backend: "webgpu", epochs: 200, seed: 8, split: 0.2, normalize: "standard" }, accuracy: 0.9 };
const DIGITS: Case = { model: "digits", data: "data/digits.csv", settings: { backend: "webgpu", epochs: 4, seed: 1, split: 0.2, normalize: "none" }, accuracy: 0.93 };
const IRIS_CPU: Case = { ...IRIS, settings: { ...IRIS.settings, backend: "cpu" } };

/** The same run in Node, through the library: its parameters after training. */
async function trainedInNode(c: Case): Promise<Record<string, Tensor>> {
  const model = await Model.load(join(dir, `${c.model}.dlc`)).on(c.settings.backend === "webgpu" ? "webgpu" : "cpu", { seed: c.settings.seed });
  try {
    await model.fit(c.data, { epochs: c.settings.epochs, split: c.settings.split, normalize: c.settings.normalize });
    return await model.params();
  } finally {
    model.dispose();
  }
}

/** The largest difference between a checkpoint's parameters and Node's. */
function maxDifference(t: ExecutionContext, file: string, node: Record<string, Tensor>): number {
  const saved = loadCheckpoint(file).tensors;
  let max = 0;
  for (const [name, want] of Object.entries(node)) {
    const got = saved.get(name);
    if (!got) {
      t.fail(`the page's checkpoint lacks '${name}'`);
      continue;
    }
    t.is(got.data.length, want.data.length, name);
    for (let i = 0; i < want.data.length; i++) max = Math.max(max, Math.abs(got.data[i]! - want.data[i]!));
  }
  return max;
}

/** Trains `c` in the page and checks its accuracy and backend; returns the downloaded checkpoint's path and the page's predictions. */
async function trainServed(t: ExecutionContext, c: Case): Promise<{ weights: string; predictions: Map<number, string> }> {
  const served = await serve([join(dir, `${c.model}.dlc`), "--data", c.data]);
  // The page works offline: every request it makes goes to dlc serve.
  const elsewhere: string[] = [];
  const onRequest = (r: Request) => void (r.url().startsWith(served.url) || /^(data|blob):/.test(r.url()) || elsewhere.push(r.url()));
  chromium!.context.on("request", onRequest);
  try {
    const page = await openPage(chromium!.context, served.url);
    const r = await trainInPage(page, c.settings);
    t.log(`${c.model} on ${c.settings.backend} in the page: ${r.seconds.toFixed(1)}s, test accuracy ${r.accuracy.toFixed(3)}: ${r.status}`);
    t.is(r.backend, c.settings.backend === "webgpu" ? "webgpu" : "cpu");
    t.true(r.accuracy >= c.accuracy, `test accuracy ${r.accuracy} < ${c.accuracy}`);
    const weights = join(dir, `${c.model}-${c.settings.backend}.safetensors`);
    await downloadWeights(page, weights);
    const predictions = await pagePredictions(page);
    await page.close();
    t.deepEqual(elsewhere, [], "requests to other servers");
    return { weights, predictions };
  } finally {
    chromium!.context.off("request", onRequest);
    t.is(await served.stop(), 0, "dlc serve exits 0 on SIGINT");
  }
}

for (const [c, tolerance] of [[IRIS, WEBGPU_TOLERANCE], [DIGITS, WEBGPU_TOLERANCE], [IRIS_CPU, CPU_TOLERANCE]] as const) {
  test.serial(`${c.model} trains in the page on ${c.settings.backend} to ${c.accuracy}+ test accuracy, to Node's weights within ${tolerance}`, async (t) => {
    const { weights } = await trainServed(t, c);
    const diff = maxDifference(t, weights, await trainedInNode(c));
    t.log(`largest parameter difference, browser vs Node (${c.settings.backend}): ${diff.toExponential(2)}`);
    t.true(diff <= tolerance, `${diff} > ${tolerance}`);
  });
}

test.serial("the downloaded weights round-trip: dlc predict agrees with the page, and a served checkpoint evaluates in the page as dlc eval does", async (t) => {
  const { weights, predictions } = await trainServed(t, IRIS);
  const artifact = join(dir, "iris.dlc");
  const predicted = dlc(["predict", artifact, "--weights", weights, "--data", IRIS.data, "--out", "-", "--backend", "cpu"]);
  t.is(predicted.status, 0, predicted.stderr);
  const lines = predicted.stdout.trim().split("\n").slice(1); // after the header
  t.true(predictions.size >= 30, `${predictions.size} rows in the page's table`);
  for (const [row, text] of predictions) t.is(lines[row], text, `row ${row}`);

  const evaluated = dlc(["eval", artifact, "--weights", weights, "--data", IRIS.data, "--json", "--backend", "cpu"]);
  t.is(evaluated.status, 0, evaluated.stderr);
  const cli = JSON.parse(evaluated.stdout) as { accuracy: number; loss: number };
  const served = await serve([artifact, "--weights", weights, "--data", IRIS.data]);
  try {
    const page = await openPage(chromium!.context, served.url);
    t.is(await page.getAttribute("#status", "data-state"), "done");
    t.is(Number(await page.getAttribute("#metrics", "data-accuracy")), cli.accuracy);
    t.true(Math.abs(Number(await page.getAttribute("#metrics", "data-loss")) - cli.loss) <= 1e-4);
    await page.close();
  } finally {
    t.is(await served.stop(), 0);
  }
});

test.serial("in a browser without WebGPU, asking for it fails with the page's reason, and auto trains on the CPU", async (t) => {
  const plain = await launchChromium({ webgpu: false });
  const served = await serve([join(dir, "iris.dlc"), "--data", IRIS.data]);
  try {
    const page = await openPage(plain.context, served.url);
    t.false(await page.evaluate("navigator.gpu ? navigator.gpu.requestAdapter().then((a) => a !== null) : false"), "no WebGPU adapter");
    const e = await t.throwsAsync(trainInPage(page, { ...IRIS.settings, epochs: 5 }));
    t.regex(e.message, /^the page failed: .*WebGPU.*; or use the CPU backend$/);
    t.log(e.message);
    const r = await trainInPage(page, { ...IRIS.settings, backend: "auto", epochs: 20 });
    t.is(r.backend, "cpu");
    t.log(r.status);
    t.regex(r.status, /WebAssembly SIMD128.*\((this browser has no WebGPU|no WebGPU adapter)\)/);
    t.true(r.accuracy >= IRIS.accuracy, `test accuracy ${r.accuracy}`);
  } finally {
    t.is(await served.stop(), 0);
    await plain.close();
  }
});
