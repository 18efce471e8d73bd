// `dlc serve` in a real browser (Chromium, headless, WebGPU on SwiftShader):
// the page trains (in its Web Worker) iris and the digits MLP to a useful
// accuracy on WebGPU, and on the CPU (WebAssembly) on two threads, the page
// being cross-origin isolated; the weights it downloads are the weights Node
// trains from the same seed (same split, same seeded shuffles) on the same
// backend kind, within a stated tolerance; the page stays responsive through
// long epochs, and Stop ends a run; the CLI reads the download and predicts
// what the page predicted; and a served checkpoint is evaluated in the page
// as `dlc eval` evaluates it. A browser that does not start, or a page
// without WebGPU, fails these tests: none is skipped.

import test, { type ExecutionContext } from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
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
 * bit the same, whatever the threads (the CPU backend's results do not depend
 * on them): the page trains on two, Node on one.
 */
const WEBGPU_TOLERANCE = 1e-4;
const CPU_TOLERANCE = 0;

const dir = mkdtempSync(join(tmpdir(), "dlc-browser-"));
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;

test.before(async () => {
  writeFileSync(join(dir, "wide.ts"), WIDE_DIGITS);
  for (const model of ["models/iris.ts", "models/digits.ts", join(dir, "wide.ts")]) {
    const r = dlc(["compile", model, "-o", join(dir, basename(model).replace(/\.ts$/, ".dlc")), "--quiet"]);
    if (r.status !== 0) throw new Error(r.stderr);
  }
  chromium = await launchChromium();
});

test.after.always(async () => {
  await chromium?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly model: "iris" | "digits" | "wide";
  readonly data: string;
  readonly settings: TrainSettings;
  /** The least test accuracy a run is expected to reach. */
  readonly accuracy: number;
}

// iris as models/iris.ts's header trains it (1,600 steps); the digits for 4 of their 30 epochs (180 steps).
const IRIS: Case = { model: "iris", data: "data/iris.csv", settings: { backend: "webgpu", epochs: 200, seed: 8, split: 0.2, normalize: "standard" }, accuracy: 0.9 };
const DIGITS: Case = { model: "digits", data: "data/digits.csv", settings: { backend: "webgpu", epochs: 4, seed: 1, split: 0.2, normalize: "none" }, accuracy: 0.93 };
const IRIS_CPU: Case = { ...IRIS, settings: { ...IRIS.settings, backend: "cpu", threads: 2 } };
const DIGITS_CPU: Case = { ...DIGITS, settings: { ...DIGITS.settings, backend: "cpu", threads: 2 } };

/**
 * The digits through two hidden layers of 1024: about 10 GFLOP an epoch on
 * the CPU, so that an epoch takes far longer than the page may freeze.
 */
const WIDE_DIGITS = `import { type Tensor, param, matmul, relu, softmaxCrossEntropy, argmax, adam } from "dlc";
function dense(name: string, x: Tensor, inputs: number, outputs: number): Tensor {
  return matmul(x, param(\`\${name}.w\`, [inputs, outputs], "he")) + param(\`\${name}.b\`, [outputs], "zeros");
}
export function logits(pixels: Tensor<["batch", 64]>): Tensor<["batch", 10]> {
  const h = relu(dense("h1", pixels / 16, 64, 1024));
  return dense("out", relu(dense("h2", h, 1024, 1024)), 1024, 10);
}
export function predict(pixels: Tensor<["batch", 64]>): Tensor<["batch"], "i32"> {
  return argmax(logits(pixels), -1);
}
export function loss(pixels: Tensor<["batch", 64]>, label: Tensor<["batch"], "i32">): Tensor<[]> {
  return softmaxCrossEntropy(logits(pixels), label);
}
export const train = { optimizer: adam({ lr: 1e-3 }), batch: 64, epochs: 3 };
`;

/** The longest the page's main thread may go without running a 10 ms timer while the worker trains (measured: see the test's log). */
const MAX_FROZEN_MS = 250;

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
    if (c.settings.threads !== undefined) {
      t.is(r.threads, c.settings.threads, r.status);
      t.regex(r.status, new RegExp(`, ${c.settings.threads} threads\\)`));
      t.log(`${c.model}: ${r.jobs} jobs posted to the pool's workers, ${r.splits} products split across threads`);
      // The digits' evaluation batches (256 x 64 x 128) are large enough to split; iris's are not.
      if (c.model === "digits") t.true(r.splits > 0, `no product split across ${r.threads} threads`);
    }
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

test.serial("the served page is cross-origin isolated (it has SharedArrayBuffer, which the CPU backend's threads share), and the threads field defaults to the cores", async (t) => {
  const served = await serve([join(dir, "iris.dlc"), "--data", IRIS.data]);
  try {
    const page = await openPage(chromium!.context, served.url);
    t.true(await page.evaluate("crossOriginIsolated"));
    t.true(await page.evaluate("typeof SharedArrayBuffer === 'function'"));
    t.true(Number(await page.inputValue("#threads")) >= 1, "the threads field defaults to the cores");
    await page.close();
  } finally {
    t.is(await served.stop(), 0);
  }
});

for (const [c, tolerance] of [[IRIS, WEBGPU_TOLERANCE], [DIGITS, WEBGPU_TOLERANCE], [IRIS_CPU, CPU_TOLERANCE], [DIGITS_CPU, CPU_TOLERANCE]] as const) {
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

test.serial("the page stays responsive while its worker trains on the CPU for seconds, and Stop ends a run between two steps, keeping its weights", async (t) => {
  const served = await serve([join(dir, "wide.dlc"), "--data", DIGITS.data]);
  try {
    const page = await openPage(chromium!.context, served.url);
    // A 10 ms timer on the page's main thread: the longest gap between its ticks is the longest the page froze.
    await page.evaluate(`window.ticks = { n: 0, max: 0, last: performance.now() };
      setInterval(() => { const now = performance.now(); ticks.max = Math.max(ticks.max, now - ticks.last); ticks.last = now; ticks.n++; }, 10);`);
    const wide: Case = { model: "wide", data: DIGITS.data, settings: { backend: "cpu", threads: 2, epochs: 3, seed: 1, split: 0.2, normalize: "none" }, accuracy: 0.9 };
    const epochs = wide.settings.epochs;
    const r = await trainInPage(page, wide.settings);
    const ticks = (await page.evaluate("ticks")) as { n: number; max: number };
    const epochMs = (1000 * r.seconds) / epochs;
    t.log(`wide digits on the CPU (${r.threads} threads, ${r.splits} products split): ${epochMs.toFixed(0)} ms an epoch; the page's 10 ms timer ticked ${ticks.n} times, its longest gap ${ticks.max.toFixed(1)} ms`);
    t.is(r.threads, 2, r.status);
    // An epoch on the page's own thread would have frozen it for longer than allowed: the run tells the two apart.
    t.true(epochMs > 2 * MAX_FROZEN_MS, `an epoch took only ${epochMs.toFixed(0)} ms`);
    t.true(ticks.max < MAX_FROZEN_MS, `the page froze for ${ticks.max.toFixed(0)} ms`);
    t.true(r.accuracy >= wide.accuracy, `test accuracy ${r.accuracy}`);
    // Hundreds of products split across two threads, and still Node's weights (one thread) bit for bit.
    const trained = join(dir, "wide-cpu.safetensors");
    await downloadWeights(page, trained);
    t.is(maxDifference(t, trained, await trainedInNode(wide)), CPU_TOLERANCE);

    // A long run, stopped once its first epoch is drawn.
    await page.fill("#epochs", "100");
    const run = Number(await page.getAttribute("#status", "data-run")) + 1;
    await page.click("#train");
    await page.waitForSelector("#metrics:text-matches('^epoch ')", { timeout: 120_000 });
    const clicked = performance.now();
    await page.click("#stop");
    await page.waitForSelector(`#status[data-run="${run}"]:is([data-state="done"], [data-state="error"])`, { timeout: 60_000 });
    const stoppedMs = performance.now() - clicked;
    const status = (await page.textContent("#status")) ?? "";
    t.log(`stopped ${stoppedMs.toFixed(0)} ms after the click: ${status}`);
    const m = /^Stopped after (\d+) steps \((\d+) of 100 epochs complete\)/.exec(status);
    t.truthy(m, status);
    t.true(Number(m![2]) >= 1 && Number(m![2]) < 100, status);
    // A step takes milliseconds; the worker yields every 50 ms.
    t.true(stoppedMs < 2_000, `${stoppedMs} ms to stop`);
    // The weights of the stopped run download and read back.
    const weights = join(dir, "wide-stopped.safetensors");
    await downloadWeights(page, weights);
    const names = [...loadCheckpoint(weights).tensors.keys()];
    for (const name of ["h1.w", "h1.b", "h2.w", "h2.b", "out.w", "out.b"]) t.true(names.includes(name), name);
    await page.close();
  } finally {
    t.is(await served.stop(), 0);
  }
});

test.serial("a page that is not cross-origin isolated trains on the CPU on one thread, and says why", async (t) => {
  const served = await serve([join(dir, "iris.dlc"), "--data", IRIS.data]);
  try {
    const page = await chromium!.context.newPage();
    // As a browser treats the page from another machine over HTTP: no COOP and COEP, so no shared memory.
    await page.route("**/*", async (route) => {
      const response = await route.fetch();
      const headers = Object.fromEntries(Object.entries(response.headers()).filter(([name]) => !/^cross-origin-(opener|embedder)-policy$/i.test(name)));
      await route.fulfill({ response, headers });
    });
    await page.goto(served.url);
    await page.waitForSelector('#status[data-state="ready"]', { timeout: 120_000 });
    t.false(await page.evaluate("crossOriginIsolated"));
    const r = await trainInPage(page, { ...IRIS_CPU.settings, epochs: 20 });
    t.log(r.status);
    t.is(r.backend, "cpu");
    t.is(r.threads, 1);
    t.regex(r.status, /1 thread: the page is not cross-origin isolated/);
    t.true(r.accuracy >= IRIS.accuracy, `test accuracy ${r.accuracy}`);
    await page.close();
  } finally {
    t.is(await served.stop(), 0);
  }
});

test.serial("a CSV file picked in the page goes to the worker, which binds it and trains on it", async (t) => {
  const served = await serve([join(dir, "iris.dlc")]);
  try {
    const page = await openPage(chromium!.context, served.url);
    t.is(await page.textContent("#status"), "Pick a CSV file to train on.");
    t.true(await page.isDisabled("#train"));
    await page.setInputFiles("#file", IRIS.data);
    await page.waitForSelector('#status[data-state="ready"]:text("Ready to train.")');
    t.is(await page.textContent("#data-summary"), "iris.csv: 150 rows, 5 columns");
    const r = await trainInPage(page, { ...IRIS_CPU.settings, epochs: 20 });
    t.true(r.accuracy >= IRIS.accuracy, `test accuracy ${r.accuracy}`);
    await page.close();
  } finally {
    t.is(await served.stop(), 0);
  }
});
