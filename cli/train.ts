// `dlc train MODEL --data FILE ...`: compile (or load) a model, load its data,
// and run the optimizer loop, reporting per epoch and saving checkpoints.

import { splitRows } from "../runtime/data/batches.js";
import { entryOf } from "../runtime/program/model.js";
import type { Normalization, TrainConfig } from "../runtime/program/train-config.js";
import { dataSettings, plan } from "./resume.js";
import { readCheckpoint, saveSession } from "../runtime/train/checkpoint-file.js";
import { DIVERGING_FACTOR, stepsPerEpoch, trainEpochs, type DivergingEvent, type Split } from "../runtime/train/loop.js";
import { labelInput } from "../runtime/train/metrics.js";
import { startSession } from "../runtime/train/session.js";
import { chooseBackend, machineThreads, type BackendChoice, type KernelChoice } from "./backend.js";
import { allRows, fitNorm, normalize } from "../runtime/train/data.js";
import { loadFor } from "../runtime/train/load.js";
import { UsageError } from "./exit.js";
import { loadModel } from "./model.js";
import { writeFileAtomic } from "../runtime/checkpoint/atomic.js";
import { evaluate } from "../runtime/train/metrics.js";
import { epochRecord, type EpochRecord } from "./history.js";
import { checkOutputs, named, sameFile } from "./outputs.js";
import { plotHistory } from "./plot.js";
import { makeReporter } from "./report.js";
import { printable } from "./terminal.js";

export interface TrainCommandOptions {
  data: string;
  test?: string;
  split?: number;
  label?: string;
  normalize?: Normalization;
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  lossEvery?: number;
  dropLast?: boolean;
  save?: string;
  resume?: string;
  plot?: string;
  backend: BackendChoice;
  kernels: KernelChoice;
  threads?: number;
  fusion: boolean;
  json?: boolean;
  quiet?: boolean;
}

export async function runTrain(file: string, o: TrainCommandOptions): Promise<void> {
  if (o.test !== undefined && o.split !== undefined) throw new UsageError("--test and --split cannot be used together");
  // Resuming from a checkpoint and saving over it is how a long run continues.
  const save = named("--save", o.save);
  const resume = named("--resume", o.resume);
  const plot = named("--plot", o.plot);
  checkOutputs([save, plot], [named("the model", file), named("--data", o.data), named("--test", o.test), resume], [[save, resume]]);
  if (plot && save && sameFile(plot.path, save.path)) throw new UsageError(`--plot and --save both name '${o.plot}'; choose another file name for one`);
  const model = await loadModel(file, { training: true, fusion: o.fusion, webgpu: !o.backend.startsWith("cpu") });
  const train = model.train!;
  const base = train.config;
  // A resumed run is set up as it was started (cli/resume.ts): read the checkpoint before the data.
  const ckpt = o.resume !== undefined ? readCheckpoint(model, o.resume, true) : undefined;
  const settings = dataSettings(o, base, ckpt?.settings);
  const loss = entryOf(model, "loss")!;
  const label = settings.label;
  const reporter = makeReporter({ quiet: o.quiet === true || o.json === true, json: o.json === true, warnings: o.quiet !== true });

  const loadStarted = performance.now();
  const columns = (features: readonly string[] | undefined) => ({ ...(label === undefined ? {} : { label }), ...(features === undefined ? {} : { features }) });
  const data = await loadFor(loss, o.data, columns(settings.featureColumns));
  let trainRows: Uint32Array = allRows(data);
  let test: Split | undefined;
  if (settings.split !== undefined) {
    const drawn = ckpt?.settings.split?.rows;
    if (drawn !== undefined && drawn !== data.rows) {
      throw new UsageError(`${o.data} has ${data.rows} rows, but the checkpoint's split ${settings.split} was drawn from ${drawn}: a different file would train on the rows it held out`);
    }
    const s = splitRows(data.rows, settings.split, settings.seed);
    trainRows = s.train;
    test = { ds: data, rows: s.test };
  } else if (o.test !== undefined) {
    // Bound by the training file's column names, not by position.
    const ds = await loadFor(loss, o.test, columns(data.featureColumns));
    test = { ds, rows: allRows(ds) };
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const perEpoch = stepsPerEpoch(trainRows.length, settings.batch, settings.dropLast);
  const planned = plan(o, base, perEpoch, ckpt && o.resume !== undefined ? { ...ckpt, file: o.resume } : undefined);
  const config: TrainConfig = {
    ...base,
    batch: settings.batch,
    epochs: planned.epochs,
    seed: settings.seed,
    ...(settings.normalize !== "none" ? { normalize: settings.normalize } : {}),
  };

  const { backend, reason: chosenBecause } = await chooseBackend(model, o.backend, { batch: settings.batch, threads: o.threads ?? machineThreads(), kernels: o.kernels });
  try {
    const session = await startSession(model, backend, config);
    if (ckpt !== undefined) {
      await backend.load(ckpt.values);
      session.epoch = ckpt.epoch;
      session.step = ckpt.step;
      session.norm = ckpt.norm;
    } else {
      session.norm = fitNorm(settings.normalize, data, trainRows);
    }
    session.run = {
      batch: settings.batch,
      dropLast: settings.dropLast,
      lr: settings.lr,
      normalize: settings.normalize,
      split: settings.split === undefined ? undefined : { fraction: settings.split, rows: data.rows },
      label,
      featureColumns: data.featureColumns,
      epochs: planned.planned,
      horizon: planned.horizon,
    };
    const trainData = normalize(data, session.norm);
    const trainSplit: Split = { ds: trainData, rows: trainRows };
    const testSplit = test && { ds: test.ds === data ? trainData : normalize(test.ds, session.norm), rows: test.rows };

    reporter.line(
      `dlc: training ${printable(model.file.split("/").pop()!)} on ${backend.description}${o.backend === "auto" ? ` (auto: ${chosenBecause})` : ""}: ${trainRows.length} examples${testSplit ? `, ${testSplit.rows.length} test` : ""}, batch ${config.batch}, ${config.epochs} epochs` +
        `${session.epoch > 0 ? ` from epoch ${session.epoch}` : ""} (data loaded in ${loadSeconds.toFixed(1)}s)`,
    );
    const totalEpochs = session.epoch + config.epochs;
    const started = performance.now();
    let diverging: DivergingEvent | undefined;
    const history: EpochRecord[] = [];
    // What the model predicts: a class (the plot's train accuracy), or a value (the mean predictor's baseline).
    const task = labelInput(model);
    const reports = await trainEpochs(session, trainSplit, testSplit, { epochs: config.epochs, batch: config.batch, dropLast: settings.dropLast, lr: settings.lr, horizon: planned.horizon, lossEvery: o.lossEvery ?? (backend.kind === "webgpu" ? 25 : 1) }, {
      onStep: (e) => reporter.step(e),
      onEpoch: async (e) => {
        reporter.epoch(e, totalEpochs);
        if (o.save !== undefined) await saveSession(session, o.save);
        // The plot's train accuracy: the training rows evaluated as the test rows are.
        const onTrain = o.plot !== undefined && task?.task === "classification" ? await evaluate(session, trainSplit.ds, trainSplit.rows, Math.max(config.batch, 256)) : undefined;
        history.push(epochRecord(e, onTrain));
        // Rewritten every epoch, so that it can be watched, and whole whenever it is read.
        if (o.plot !== undefined) writeFileAtomic(o.plot, new TextEncoder().encode(plotHistory(history, `${printable(model.file.split("/").pop()!)}: ${backend.description}`)));
      },
      onDiverging: (e) => {
        diverging = e;
        reporter.warn(divergingText(e));
      },
    });
    reporter.done();
    const seconds = (performance.now() - started) / 1000;
    // For a regression, the number to beat: the test MSE of always predicting the training mean.
    const baseline = task?.task === "regression" && testSplit ? meanPredictorMse(trainSplit, testSplit, task.name) : undefined;
    if (baseline !== undefined) reporter.line(`predicting the training mean instead: test_mse ${baseline.toFixed(4)}`);
    if (o.save !== undefined) reporter.line(`dlc: saved ${printable(o.save)}`);
    if (o.plot !== undefined) reporter.line(`dlc: plotted ${history.length} epochs to ${printable(o.plot)}`);
    if (o.json) {
      const last = reports.at(-1);
      const steps = reports.reduce((n, r) => n + r.steps, 0);
      const trainSeconds = reports.reduce((n, r) => n + r.seconds, 0);
      const t = last?.test;
      const summary: Record<string, unknown> = {
        backend: backend.kind,
        device: backend.description,
        backend_reason: chosenBecause,
        model: model.file.split("/").pop(),
        epochs: session.epoch,
        steps: session.step,
        steps_this_run: steps,
        train_loss: last?.trainLoss ?? null,
        steps_per_second: steps / Math.max(trainSeconds, 1e-9),
        examples_per_second: reports.reduce((n, r) => n + r.examples, 0) / Math.max(trainSeconds, 1e-9),
        seconds,
        data_seconds: loadSeconds,
        task: task?.task ?? "loss",
      };
      if (t) {
        summary.test_loss = t.loss;
        if (t.accuracy !== undefined) summary.test_accuracy = t.accuracy;
        if (t.confusion !== undefined) summary.test_confusion = t.confusion;
        if (t.mse !== undefined) Object.assign(summary, { test_mse: t.mse, test_mae: t.mae, test_mse_of_mean: baseline });
      }
      if (o.save !== undefined) summary.checkpoint = o.save;
      summary.history = history;
      if (o.plot !== undefined) summary.plot = o.plot;
      if (diverging) summary.diverging = { step: diverging.step, loss: diverging.loss, first_loss: diverging.firstLoss };
      process.stdout.write(JSON.stringify(summary) + "\n");
    }
  } finally {
    backend.dispose();
  }
}

export function divergingText(e: DivergingEvent): string {
  const g = (v: number) => v.toPrecision(4);
  return `dlc: warning: the loss is diverging: ${g(e.loss)} at step ${e.step}, more than ${DIVERGING_FACTOR} times the first step's ${g(e.firstLoss)}; lower the learning rate (--lr) or normalize the features (--normalize standard)`;
}

function meanPredictorMse(train: Split, test: Split, target: string): number {
  const y = train.ds.inputs.get(target)!.data;
  const width = train.ds.inputs.get(target)!.width;
  let sum = 0;
  for (const r of train.rows) for (let j = 0; j < width; j++) sum += y[r * width + j]!;
  const mean = sum / (train.rows.length * width);
  const t = test.ds.inputs.get(target)!.data;
  let se = 0;
  for (const r of test.rows) for (let j = 0; j < width; j++) se += (t[r * width + j]! - mean) ** 2;
  return se / (test.rows.length * width);
}
