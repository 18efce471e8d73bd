// The page `dlc serve` serves: it loads the artifact (and the weights and data
// given on the command line), binds a CSV file the user picks, trains with
// live charts on WebGPU or the CPU (WebAssembly) through dlc's browser runtime,
// shows the predictions on the held-out rows, and downloads the weights as a
// safetensors checkpoint that `dlc eval --weights` reads.
//
// #status's data-state (loading, ready, busy, done, error), data-backend and
// data-run (the count of training runs started) say where the page is, for
// people and for the browser test.

import { ROUTES, type PageConfig } from "../cli/serve-protocol.js";
import {
  chooseBackend,
  decodeWeights,
  encodeSession,
  entryOf,
  evaluateDataset,
  fitDatasets,
  labelInput,
  parseArtifact,
  predict,
  startSession,
  textFor,
  type BackendChoice,
  type Dataset,
  type EpochEvent,
  type Metrics,
  type ModelProgram,
  type Session,
} from "../runtime/browser.js";
import { EpochChart } from "./charts.js";
import { download, fetchBytes, fetchJson, fetchText, readPicked } from "./files.js";
import { showPredictions } from "./predictions.js";

const element = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => element<HTMLInputElement>(id);

type State = "loading" | "ready" | "busy" | "done" | "error";

/** Shows where the page is; buttons are enabled only when idle and when what they need is there. */
function status(state: State, text: string, page?: Page): void {
  const s = element("status");
  s.dataset.state = state;
  if (page?.session) s.dataset.backend = page.session.backend.kind;
  s.textContent = text;
  const idle = state !== "busy" && state !== "loading";
  element<HTMLButtonElement>("train").disabled = !(idle && page?.data && page.model.train);
  element<HTMLButtonElement>("download").disabled = !(idle && page?.session);
}

/** Runs a step of the page, showing its error (one line: dlc's errors say what is wrong) instead of a stack. */
async function guarded(work: () => Promise<void>, page?: Page): Promise<void> {
  try {
    await work();
  } catch (e) {
    console.error(e);
    status("error", e instanceof Error ? e.message : String(e), page);
  }
}

/** Lets the browser draw (training runs on this thread). */
const drawn = () => new Promise((resolve) => setTimeout(resolve, 0));

const fmt = (v: number | undefined, digits = 4) => (v === undefined ? "" : v.toFixed(digits));

function metricsText(m: Metrics): string {
  const parts = [`loss ${fmt(m.loss)}`];
  if (m.accuracy !== undefined) parts.push(`accuracy ${fmt(m.accuracy, 3)}`);
  if (m.mse !== undefined) parts.push(`MSE ${fmt(m.mse)}`, `MAE ${fmt(m.mae)}`);
  return parts.join(", ");
}

/** The page once the model has loaded: its data, its session, its charts. */
class Page {
  data?: Dataset;
  session?: Session;
  private charts: EpochChart[] = [];
  private runs = 0;

  constructor(
    readonly config: PageConfig,
    readonly model: ModelProgram,
  ) {
    element("model-name").textContent = config.model;
    const weights = model.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    element("model-summary").textContent = `${model.params.length} parameters (${weights.toLocaleString("en")} weights); entry points ${model.entries.map((e) => e.name).join(", ")}${config.weights ? `; weights from ${config.weights}` : ""}`;
    const train = model.train?.config;
    if (train) {
      input("epochs").value = String(train.epochs);
      input("batch").value = String(train.batch);
      input("lr").value = String(train.optimizer.lr);
      input("seed").value = String(train.seed);
      element<HTMLSelectElement>("normalize").value = train.normalize ?? "none";
    }
    input("file").addEventListener("change", () => {
      const file = input("file").files?.[0];
      if (file) void guarded(async () => this.useData(await readPicked(file), file.name), this);
    });
    element("train").addEventListener("click", () => void guarded(() => this.train(), this));
    element("download").addEventListener("click", () => void guarded(() => this.download(), this));
  }

  async useData(text: string, name: string): Promise<void> {
    const loss = entryOf(this.model, "loss");
    if (!loss) throw new Error("the model has no `loss` entry point to bind data to");
    const label = this.model.train?.config.label;
    this.data = textFor(loss, text, name, label === undefined ? {} : { label });
    element("data-summary").textContent = `${name}: ${this.data.rows.toLocaleString("en")} rows, ${this.data.header.length} columns`;
    if (this.config.weights !== null) await this.evaluateWeights(this.data);
    else status("ready", "Ready to train.", this);
  }

  /** A session on the chosen backend, with the seed's parameters, or the weights the server was given. */
  private async newSession(seed: number): Promise<{ session: Session; reason: string }> {
    this.session?.backend.dispose();
    this.session = undefined;
    const choice = element<HTMLSelectElement>("backend").value as BackendChoice;
    const { backend, reason } = await chooseBackend(this.model, choice, { batch: Number(input("batch").value) || undefined });
    const config = this.model.train?.config ?? { optimizer: { kind: "sgd", lr: 0, schedule: { kind: "constant" } }, batch: 256, epochs: 0, seed };
    const session = await startSession(this.model, backend, { ...config, seed });
    if (this.config.weights !== null) {
      const w = decodeWeights(this.model, await fetchBytes(ROUTES.weights), this.config.weights, false);
      await backend.load(w.values);
      session.norm = w.norm;
    }
    this.session = session;
    return { session, reason };
  }

  /** The weights given to `dlc serve`, on every row of the data. */
  private async evaluateWeights(ds: Dataset): Promise<void> {
    status("busy", `Evaluating ${this.config.weights}…`, this);
    const { session } = await this.newSession(0);
    const m = await evaluateDataset(session, ds);
    await this.showResults(session, ds, Uint32Array.from({ length: ds.rows }, (_, i) => i), m);
    status("done", `${this.config.weights} on ${ds.rows} rows: ${metricsText(m)}`, this);
  }

  private async showResults(session: Session, ds: Dataset, rows: Uint32Array, m: Metrics): Promise<void> {
    const metrics = element("metrics");
    metrics.textContent = metricsText(m);
    metrics.dataset.loss = String(m.loss);
    metrics.dataset.accuracy = m.accuracy === undefined ? "" : String(m.accuracy);
    const { values, width } = await predict(session, ds);
    element("predictions-summary").textContent = showPredictions(element<HTMLTableElement>("predictions"), this.model, ds, rows, { values, width });
  }

  private async train(): Promise<void> {
    const ds = this.data!;
    const epochs = numberIn("epochs", true, 1);
    const batch = numberIn("batch", true, 1);
    const lr = numberIn("lr", false, 0);
    const split = numberIn("split", false, 0.01, 0.99);
    const seed = numberIn("seed", true, 0, 2 ** 32 - 1);
    const normalize = element<HTMLSelectElement>("normalize").value as "none" | "standard" | "minmax";
    element("status").dataset.run = String(++this.runs);
    status("busy", "Starting…", this);
    const { session, reason } = await this.newSession(seed);
    const regression = labelInput(this.model)?.task === "regression";
    for (const c of this.charts) c.destroy();
    const lossChart = new EpochChart(element("loss-chart"), ["train loss", "test loss"]);
    const qualityChart = new EpochChart(element("accuracy-chart"), [regression ? "test MSE" : "test accuracy"]);
    this.charts = [lossChart, qualityChart];
    const progress = element<HTMLProgressElement>("progress");
    const on = `${session.backend.description} (${reason})`;
    status("busy", `Training on ${on}…`, this);
    const onEpoch = async (e: EpochEvent) => {
      lossChart.add(e.epoch + 1, [e.trainLoss, e.test?.loss]);
      qualityChart.add(e.epoch + 1, [regression ? e.test?.mse : e.test?.accuracy]);
      element("metrics").textContent = `epoch ${e.epoch + 1}: train loss ${fmt(e.trainLoss)}${e.test ? `, test ${metricsText(e.test)}` : ""}`;
      await drawn();
    };
    const result = await fitDatasets(session, ds, undefined, {
      epochs,
      batch,
      lr,
      split,
      normalize,
      onStep: (e) => (progress.value = (e.epoch * e.stepsInEpoch + e.stepInEpoch) / (epochs * e.stepsInEpoch)),
      onEpoch,
    });
    await this.showResults(session, ds, result.testRows!, result.test!);
    status("done", `Trained ${epochs} epochs on ${on}; test ${metricsText(result.test!)}.`, this);
  }

  private async download(): Promise<void> {
    download(await encodeSession(this.session!), this.config.model.replace(/\.(dlc|ts)$/, "") + ".safetensors");
  }
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

void guarded(async () => {
  const config = await fetchJson<PageConfig>(ROUTES.config);
  const page = new Page(config, parseArtifact(await fetchBytes(ROUTES.model), config.model).model);
  if (config.data !== null) await guarded(async () => page.useData(await fetchText(ROUTES.data), config.data!), page);
  else status("ready", page.model.train ? "Pick a CSV file to train on." : "The model has no training step (no loss).", page);
});
