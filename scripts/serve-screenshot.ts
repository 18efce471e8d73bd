// docs/serve.png, the README's picture of `dlc serve`: the digits MLP trained
// for 10 epochs on WebGPU in headless Chromium (the browser the tests drive).
// Run: node --import tsx scripts/serve-screenshot.ts   (after npm run build)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dlc } from "../test/helpers/cli.js";
import { launchChromium, openPage, serve, trainInPage } from "../test/helpers/browser.js";
import { ROOT } from "../test/helpers/paths.js";

const dir = mkdtempSync(join(tmpdir(), "dlc-screenshot-"));
const artifact = join(dir, "digits.dlc");
const compiled = dlc(["compile", "models/digits.ts", "-o", artifact, "--quiet"]);
if (compiled.status !== 0) throw new Error(compiled.stderr);
const chromium = await launchChromium();
const served = await serve([artifact, "--data", "data/digits.csv"]);
try {
  const page = await openPage(chromium.context, served.url);
  await page.setViewportSize({ width: 1200, height: 700 });
  const r = await trainInPage(page, { backend: "webgpu", epochs: 10, seed: 1, split: 0.2, normalize: "none" });
  await page.screenshot({ path: join(ROOT, "docs/serve.png") });
  console.log(`docs/serve.png: ${r.status}`);
} finally {
  await served.stop();
  await chromium.close();
  rmSync(dir, { recursive: true, force: true });
}
