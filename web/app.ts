// The page `dlc serve` serves. It draws; a Web Worker (web/trainer.ts) does
// the rest: it loads the artifact (and the weights and data given on the
// command line), binds a CSV file the user picks, trains on WebGPU or the CPU
// (WebAssembly, on threads where the page is cross-origin isolated), predicts
// on the held-out rows, and hands over the weights as a safetensors
// checkpoint that `dlc eval --weights` reads. The page stays responsive
// however long an epoch takes, and Stop ends a run between two steps.
//
// #status's data-state (loading, ready, busy, done, error), data-backend,
// data-threads, data-jobs and data-splits (the CPU backend's threads, the
// jobs its workers ran, the products split across them) and data-run (the count of training runs started) say where
// the page is, for people and for the browser test.

import { ROUTES } from "../cli/serve-protocol.js";
import { EpochChart } from "./charts.js";
import { download } from "./files.js";
import type { BackendRequest, Command, ModelInfo, PageState, PredictionTable, Report, TrainRequest } from "./protocol.js";

const element = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => element<HTMLInputElement>(id);

/** Threads the CPU backend gets by default: the machine's cores, up to a point (more threads, smaller shares). */
const MAX_DEFAULT_THREADS = 8;

class Page {
  private readonly worker = new Worker(ROUTES.trainer, { type: "module" });
  private model?: ModelInfo;
  private hasData = false;
  private hasSession = false;
  private training = false;
  private runs = 0;
  private charts: EpochChart[] = [];

  constructor() {
    this.worker.onmessage = (e: MessageEvent<Report>) => this.onReport(e.data);
    // The worker's script failed to load or threw outside a command (commands report their own errors).
    this.worker.onerror = (e) => this.status("error", `the training worker failed: ${e.message || "it did not load"}`);
    // Where the page is not cross-origin isolated the backend runs one thread, and its description (the status line) says why.
    input("threads").value = String(Math.min(navigator.hardwareConcurrency || 1, MAX_DEFAULT_THREADS));
    input("file").addEventListener("change", () => {
      const file = input("file").files?.[0];
      if (file) this.send({ kind: "data", file, request: this.backendRequest() });
    });
    element("train").addEventListener("click", () => this.train());
    element("stop").addEventListener("click", () => this.send({ kind: "stop" }));
    element("download").addEventListener("click", () => this.send({ kind: "weights" }));
    this.send({ kind: "open", request: this.backendRequest() });
  }

  private send(command: Command): void {
    this.worker.postMessage(command);
  }

  /** Shows where the page is; buttons are enabled only when idle and when what they need is there. */
  private status(state: PageState, text: string): void {
    const s = element("status");
    s.dataset.state = state;
    s.textContent = text;
    const idle = state !== "busy" && state !== "loading";
    if (idle) this.training = false;
    element<HTMLButtonElement>("train").disabled = !(idle && this.hasData && this.model?.trainable);
    element<HTMLButtonElement>("stop").disabled = !this.training;
    element<HTMLButtonElement>("download").disabled = !(idle && this.hasSession);
  }

  private onReport(r: Report): void {
    switch (r.kind) {
      case "model":
        return this.showModel(r.model);
      case "data":
        this.hasData = true;
        element("data-summary").textContent = r.summary;
        return;
      case "status": {
        if (r.backend) {
          this.hasSession = true;
          const s = element("status");
          s.dataset.backend = r.backend.kind;
          s.dataset.threads = String(r.backend.threads);
          s.dataset.jobs = String(r.backend.jobs);
          s.dataset.splits = String(r.backend.splits);
        }
        return this.status(r.state, r.text);
      }
      case "progress":
        element<HTMLProgressElement>("progress").value = r.fraction;
        return;
      case "epoch": {
        const [loss, quality] = this.charts;
        loss?.add(r.epoch, [r.trainLoss, r.testLoss]);
        quality?.add(r.epoch, [r.quality]);
        element("metrics").textContent = r.text;
        return;
      }
      case "results": {
        const metrics = element("metrics");
        metrics.textContent = r.text;
        metrics.dataset.loss = String(r.metrics.loss);
        metrics.dataset.accuracy = r.metrics.accuracy === undefined ? "" : String(r.metrics.accuracy);
        return drawPredictions(element<HTMLTableElement>("predictions"), element("predictions-summary"), r.predictions);
      }
      case "weights":
        return download(r.bytes, r.name);
    }
  }

  private showModel(m: ModelInfo): void {
    this.model = m;
    element("model-name").textContent = m.config.model;
    element("model-summary").textContent = m.summary;
    if (m.defaults) {
      input("epochs").value = String(m.defaults.epochs);
      input("batch").value = String(m.defaults.batch);
      input("lr").value = String(m.defaults.lr);
      input("seed").value = String(m.defaults.seed);
      element<HTMLSelectElement>("normalize").value = m.defaults.normalize;
    }
  }

  private backendRequest(): BackendRequest {
    return { backend: element<HTMLSelectElement>("backend").value as BackendRequest["backend"], threads: Number(input("threads").value) || 1 };
  }

  private train(): void {
    let request: TrainRequest;
    try {
      request = {
        ...this.backendRequest(),
        threads: numberIn("threads", true, 1, 256),
        epochs: numberIn("epochs", true, 1),
        batch: numberIn("batch", true, 1),
        lr: numberIn("lr", false, 0),
        split: numberIn("split", false, 0.01, 0.99),
        seed: numberIn("seed", true, 0, 2 ** 32 - 1),
        normalize: element<HTMLSelectElement>("normalize").value as TrainRequest["normalize"],
      };
    } catch (e) {
      return this.status("error", (e as Error).message);
    }
    element("status").dataset.run = String(++this.runs);
    for (const c of this.charts) c.destroy();
    this.charts = [new EpochChart(element("loss-chart"), ["train loss", "test loss"]), new EpochChart(element("accuracy-chart"), [this.model?.regression ? "test MSE" : "test accuracy"])];
    element<HTMLProgressElement>("progress").value = 0;
    this.training = true;
    this.status("busy", "Starting…");
    this.send({ kind: "train", request });
  }
}

/** Fills `table` with the worker's predictions and `summary` with its line. */
function drawPredictions(table: HTMLTableElement, summary: HTMLElement, p: PredictionTable): void {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const title of p.head) head.append(Object.assign(document.createElement("th"), { textContent: title }));
  const body = table.createTBody();
  for (const r of p.rows) {
    const tr = body.insertRow();
    tr.dataset.row = String(r.row);
    if (r.wrong) tr.className = "wrong";
    for (const text of r.cells) tr.insertCell().textContent = text;
  }
  summary.textContent = p.summary;
}

/** The number in field `id`, or an error naming the field. */
function numberIn(id: string, integer: boolean, min: number, max = Infinity): number {
  const text = input(id).value;
  const v = Number(text);
  if (text.trim() === "" || !(v >= min && v <= max) || (integer && !Number.isInteger(v))) {
    throw new Error(`${id}: '${text}' is not ${integer ? "an integer" : "a number"} in [${min}, ${max === Infinity ? "∞" : max}]`);
  }
  return v;
}

new Page();
