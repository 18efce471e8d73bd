// A real browser for the tests of `dlc serve`: Debian's Chromium
// (scripts/install-browser.sh installs it) driven by playwright-core, with
// WebGPU on (its adapter is SwiftShader, Chromium's software Vulkan), and
// `dlc serve` run as the user runs it. Nothing here skips: a browser that
// does not start, or a page without WebGPU, fails the test that needed it.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./paths.js";

export const CHROMIUM = "/usr/bin/chromium";

/** A Chromium of its own (a fresh profile, deleted on close), headless, with WebGPU (unless `webgpu` is false) and without the background traffic of a first run. */
export async function launchChromium(options: { webgpu?: boolean } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "dlc-chromium-"));
  const gpu = options.webgpu === false ? ["--disable-features=WebGPU"] : ["--enable-unsafe-webgpu"];
  const args = ["--no-sandbox", ...gpu, "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, acceptDownloads: true, viewport: { width: 1280, height: 760 } }).catch((e: Error) => {
    throw new Error(`Chromium did not start (${CHROMIUM}; ./scripts/install-browser.sh installs it): ${e.message.split("\n")[0]}`);
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Served {
  readonly url: string;
  /** Sends SIGINT and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `dlc serve ARGS --port 0 --json` and resolves once it prints its URL (rejects with its stderr if it exits first). */
export function serve(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [join(ROOT, "bin/dlc.js"), "serve", ...args, "--port", "0", "--json"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("\n")) resolve({ url: (JSON.parse(stdout) as { url: string }).url, stop: () => (child.kill("SIGINT"), exited) });
    });
    void exited.then((code) => reject(new Error(`dlc serve exited (${code}) before printing its URL: ${stderr}`)));
  });
}

export interface TrainSettings {
  readonly backend: "auto" | "webgpu" | "cpu" | "cpu-js";
  readonly epochs: number;
  readonly seed: number;
  readonly split: number;
  readonly normalize: "none" | "standard" | "minmax";
  /** The CPU backend's threads (default: the page's, the cores of a cross-origin isolated page). */
  readonly threads?: number;
  /** Default: the model's. */
  readonly batch?: number;
}

export interface PageResult {
  /** #status's text. */
  readonly status: string;
  /** The backend kind the page trained on (#status's data-backend). */
  readonly backend: string | null;
  /** The CPU backend's threads, the jobs its worker pool ran and the products split across them (#status's data-threads, data-jobs, data-splits). */
  readonly threads: number;
  readonly jobs: number;
  readonly splits: number;
  readonly accuracy: number;
  readonly seconds: number;
}

/** Waits for #status to settle; throws the page's message when it settled on an error. */
async function settled(page: Page, timeout = 600_000): Promise<string> {
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"], #status[data-state="ready"]', { timeout });
  const text = (await page.textContent("#status")) ?? "";
  if ((await page.getAttribute("#status", "data-state")) === "error") throw new Error(`the page failed: ${text}`);
  return text;
}

/** Opens `url` and waits for the page to have loaded the model (and the data, and evaluated weights, when served). */
export async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await settled(page, 120_000).catch((e: Error) => {
    throw new Error(`${e.message}${errors.length ? ` (page errors: ${errors.join("; ")})` : ""}`);
  });
  return page;
}

/** Trains in the page as a user does: the settings into the form, Train, and the page's report. */
export async function trainInPage(page: Page, s: TrainSettings): Promise<PageResult> {
  await page.selectOption("#backend", s.backend);
  await page.fill("#epochs", String(s.epochs));
  await page.fill("#seed", String(s.seed));
  await page.fill("#split", String(s.split));
  await page.selectOption("#normalize", s.normalize);
  if (s.threads !== undefined) await page.fill("#threads", String(s.threads));
  if (s.batch !== undefined) await page.fill("#batch", String(s.batch));
  const run = Number((await page.getAttribute("#status", "data-run")) ?? 0) + 1;
  const started = performance.now();
  await page.click("#train");
  // This run's end, not the last one's: the page counts the runs it starts.
  await page.waitForSelector(`#status[data-run="${run}"]:is([data-state="done"], [data-state="error"])`, { timeout: 600_000 });
  const status = await settled(page);
  const attribute = async (name: string) => Number(await page.getAttribute("#status", name));
  return { status, backend: await page.getAttribute("#status", "data-backend"), threads: await attribute("data-threads"), jobs: await attribute("data-jobs"), splits: await attribute("data-splits"), accuracy: Number(await page.getAttribute("#metrics", "data-accuracy")), seconds: (performance.now() - started) / 1000 };
}

/** Clicks "Download weights" and saves the file at `path`. */
export async function downloadWeights(page: Page, path: string): Promise<void> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  await download.saveAs(path);
}

/** The predictions table: row index (from 0) -> the predicted text. */
export async function pagePredictions(page: Page): Promise<Map<number, string>> {
  const rows = await page.$$eval("#predictions tbody tr", (trs) => trs.map((tr) => [Number(tr.getAttribute("data-row")), tr.lastElementChild!.textContent ?? ""] as const));
  return new Map(rows);
}
