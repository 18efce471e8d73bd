// The Web Worker that trains for the page (web/app.ts): it loads the
// artifact, the data and the weights `dlc serve` serves (or a file the user
// picked), trains, evaluates and predicts through dlc's browser runtime, and
// reports to the page (web/protocol.ts), which only draws. Running here keeps
// the page responsive through the longest epoch, and lets the CPU backend
// block on its own worker threads (Atomics.wait, forbidden on a page's main
// thread) where the page is cross-origin isolated. WebGPU runs here as well
// (navigator.gpu exists in workers), so both backends take one path.
//
// Commands run one at a time, in order; Stop alone is heard at once: the
// training loop yields to this worker's event loop every PROGRESS_MS, and a
// Stop heard there ends the run before the next step, keeping its weights.

import { ROUTES, type PageConfig } from "../cli/serve-protocol.js";
import {
  chooseBackend,
  CpuBackend,
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
  type Dataset,
  type Metrics,
  type ModelProgram,
  type Session,
} from "../runtime/browser.js";
import { fetchBytes, fetchJson, fetchText, readPicked } from "./files.js";
import { predictionTable } from "./predictions.js";
import type { BackendInfo, BackendRequest, Command, PageState, Report, TrainRequest } from "./protocol.js";

const scope = globalThis as unknown as {
  postMessage(report: Report, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<Command>) => void) | null;
};
const post = (report: Report, transfer: Transferable[] = []) => scope.postMessage(report, transfer);
const status = (state: PageState, text: string, backend?: BackendInfo) => post({ kind: "status", state, text, ...(backend ? { backend } : {}) });

/** How often (ms) a run reports its progress and yields to hear a Stop. */
const PROGRESS_MS = 50;

/** A task of its own (not a timer, which browsers clamp to 4 ms): messages queued before it, a Stop among them, are handled first. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

const fmt = (v: number | undefined, digits = 4) => (v === undefined ? "" : v.toFixed(digits));

function metricsText(m: Metrics): string {
  const parts = [`loss ${fmt(m.loss)}`];
  if (m.accuracy !== undefined) parts.push(`accuracy ${fmt(m.accuracy, 3)}`);
  if (m.mse !== undefined) parts.push(`MSE ${fmt(m.mse)}`, `MAE ${fmt(m.mae)}`);
  return parts.join(", ");
}

/** Thrown from the loop's step callback when the page asked to stop. */
class Stopped extends Error {}

class Trainer {
  private config?: PageConfig;
  private model?: ModelProgram;
  private data?: Dataset;
  private session?: Session;
  private reason = "";
  private stopping = false;

  stop(): void {
    this.stopping = true;
  }

  async open(request: BackendRequest): Promise<void> {
    const config = await fetchJson<PageConfig>(ROUTES.config);
    const model = parseArtifact(await fetchBytes(ROUTES.model), config.model).model;
    [this.config, this.model] = [config, model];
    const weights = model.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    const train = model.train?.config;
    post({
      kind: "model",
      model: {
        config,
        summary: `${model.params.length} parameters (${weights.toLocaleString("en")} weights); entry points ${model.entries.map((e) => e.name).join(", ")}${config.weights ? `; weights from ${config.weights}` : ""}`,
        trainable: model.train !== undefined,
        regression: labelInput(model)?.task === "regression",
        ...(train ? { defaults: { epochs: train.epochs, batch: train.batch, lr: train.optimizer.lr, seed: train.seed, normalize: train.normalize ?? "none" } } : {}),
      },
    });
    if (config.data !== null) await this.useData(await fetchText(ROUTES.data), config.data, request);
    else status("ready", model.train ? "Pick a CSV file to train on." : "The model has no training step (no loss).");
  }

  async useData(text: string, name: string, request: BackendRequest): Promise<void> {
    const model = this.model!;
    const loss = entryOf(model, "loss");
    if (!loss) throw new Error("the model has no `loss` entry point to bind data to");
    const label = model.train?.config.label;
    const data = textFor(loss, text, name, label === undefined ? {} : { label });
    this.data = data;
    post({ kind: "data", summary: `${name}: ${data.rows.toLocaleString("en")} rows, ${data.header.length} columns` });
    if (this.config!.weights !== null) await this.evaluateWeights(data, request);
    else status("ready", "Ready to train.");
  }

  async usePicked(file: File, request: BackendRequest): Promise<void> {
    await this.useData(await readPicked(file), file.name, request);
  }

  /** A session on the chosen backend, with the seed's parameters, or the weights the server was given. */
  private async newSession(request: BackendRequest, batch: number | undefined, seed: number): Promise<Session> {
    const model = this.model!;
    this.session?.backend.dispose();
    this.session = undefined;
    const { backend, reason } = await chooseBackend(model, request.backend, { threads: request.threads, ...(batch ? { batch } : {}) });
    const config = model.train?.config ?? { optimizer: { kind: "sgd" as const, lr: 0, schedule: { kind: "constant" as const } }, batch: 256, epochs: 0, seed };
    const session = await startSession(model, backend, { ...config, seed });
    const weights = this.config!.weights;
    if (weights !== null) {
      const w = decodeWeights(model, await fetchBytes(ROUTES.weights), weights, false);
      await backend.load(w.values);
      session.norm = w.norm;
    }
    [this.session, this.reason] = [session, reason];
    return session;
  }

  private backendInfo(): BackendInfo {
    const backend = this.session!.backend;
    const engine = backend instanceof CpuBackend && backend.products.kind === "wasm" ? backend.products.engine : undefined;
    return { kind: backend.kind, description: `${backend.description} (${this.reason})`, threads: engine?.gemm.threads ?? 1, jobs: engine?.gemm.pool?.posted ?? 0, splits: engine?.gemm.splits ?? 0 };
  }

  /** The weights given to `dlc serve`, on every row of the data. */
  private async evaluateWeights(ds: Dataset, request: BackendRequest): Promise<void> {
    status("busy", `Evaluating ${this.config!.weights}…`);
    const session = await this.newSession(request, undefined, 0);
    const m = await evaluateDataset(session, ds);
    await this.results(session, ds, Uint32Array.from({ length: ds.rows }, (_, i) => i), m);
    status("done", `${this.config!.weights} on ${ds.rows} rows: ${metricsText(m)}`, this.backendInfo());
  }

  private async results(session: Session, ds: Dataset, rows: Uint32Array, m: Metrics): Promise<void> {
    const p = await predict(session, ds);
    post({ kind: "results", metrics: m, text: metricsText(m), predictions: predictionTable(this.model!, ds, rows, p) });
  }

  async train(r: TrainRequest): Promise<void> {
    const ds = this.data;
    if (!ds) throw new Error("no data to train on: pick a CSV file first");
    this.stopping = false;
    status("busy", "Starting…");
    const session = await this.newSession(r, r.batch, r.seed);
    const on = () => this.backendInfo().description;
    status("busy", `Training on ${on()}…`, this.backendInfo());
    let lastPost = performance.now();
    // After a report: let queued messages in, and end the run before the next step if one was Stop.
    const yieldForStop = async () => {
      await nextTask();
      lastPost = performance.now();
      if (this.stopping) throw new Stopped();
    };
    const regression = labelInput(this.model!)?.task === "regression";
    try {
      const result = await fitDatasets(session, ds, undefined, {
        epochs: r.epochs,
        batch: r.batch,
        lr: r.lr,
        split: r.split,
        normalize: r.normalize,
        onStep: async (e) => {
          if (performance.now() - lastPost < PROGRESS_MS) return;
          post({ kind: "progress", fraction: (e.epoch * e.stepsInEpoch + e.stepInEpoch) / (r.epochs * e.stepsInEpoch) });
          await yieldForStop();
        },
        onEpoch: async (e) => {
          const text = `epoch ${e.epoch + 1}: train loss ${fmt(e.trainLoss)}${e.test ? `, test ${metricsText(e.test)}` : ""}`;
          const quality = regression ? e.test?.mse : e.test?.accuracy;
          post({ kind: "epoch", epoch: e.epoch + 1, trainLoss: e.trainLoss, ...(e.test ? { testLoss: e.test.loss } : {}), ...(quality !== undefined ? { quality } : {}), text });
          post({ kind: "progress", fraction: (e.epoch + 1) / r.epochs });
          await yieldForStop();
        },
      });
      await this.results(session, ds, result.testRows!, result.test!);
      status("done", `Trained ${r.epochs} epochs on ${on()}; test ${metricsText(result.test!)}.`, this.backendInfo());
    } catch (e) {
      if (!(e instanceof Stopped)) throw e;
      status("done", `Stopped after ${session.step} steps (${session.epoch} of ${r.epochs} epochs complete) on ${on()}; the weights are that step's.`, this.backendInfo());
    }
  }

  async weights(): Promise<void> {
    if (!this.session) throw new Error("no weights yet: train first");
    const bytes = await encodeSession(this.session);
    post({ kind: "weights", bytes, name: this.config!.model.replace(/\.(dlc|ts)$/, "") + ".safetensors" }, [bytes.buffer as ArrayBuffer]);
  }
}

const trainer = new Trainer();

/** Runs a command, reporting its error as one line (dlc's errors say what is wrong); the stack goes to the console. */
async function run(command: Command): Promise<void> {
  try {
    if (command.kind === "open") await trainer.open(command.request);
    else if (command.kind === "data") await trainer.usePicked(command.file, command.request);
    else if (command.kind === "train") await trainer.train(command.request);
    else if (command.kind === "weights") await trainer.weights();
  } catch (e) {
    console.error(e);
    status("error", (e instanceof Error ? e.message : String(e)).split("\n")[0]!);
  }
}

let queue = Promise.resolve();
scope.onmessage = (e) => {
  if (e.data.kind === "stop") trainer.stop();
  else queue = queue.then(() => run(e.data));
};
