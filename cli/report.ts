// How training reports itself: a progress bar on a terminal, plain lines
// otherwise, and with --json one JSON object as the last line of stdout.

import { SingleBar } from "cli-progress";
import type { EpochEvent, StepEvent } from "../runtime/train/loop.js";
import type { Metrics } from "../runtime/train/metrics.js";

export interface Reporter {
  step(e: StepEvent): void;
  epoch(e: EpochEvent, totalEpochs: number): void;
  line(text: string): void;
  /** One line on stderr (kept apart from a progress bar), even with --json; not with --quiet. */
  warn(text: string): void;
  done(): void;
}

const fmt = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? String(v) : v.toFixed(digits));

export function metricsText(m: Metrics, prefix: string): string {
  const parts = [`${prefix}loss ${fmt(m.loss)}`];
  if (m.accuracy !== undefined) parts.push(`${prefix}accuracy ${fmt(m.accuracy)}`);
  if (m.mse !== undefined) parts.push(`${prefix}mse ${fmt(m.mse)}`, `${prefix}mae ${fmt(m.mae)}`);
  return parts.join("  ");
}

export function epochText(e: EpochEvent, totalEpochs: number): string {
  const rate = e.steps / Math.max(e.seconds, 1e-9);
  const test = e.test ? `  ${metricsText(e.test, "test_")}` : "";
  return `epoch ${e.epoch + 1}/${totalEpochs}  train_loss ${fmt(e.trainLoss)}${test}  ${rate.toFixed(1)} steps/s  ${e.seconds.toFixed(1)}s`;
}

export function makeReporter(options: { quiet: boolean; json: boolean; warnings?: boolean }): Reporter {
  const out = (s: string) => process.stdout.write(s + "\n");
  const tty = process.stderr.isTTY === true && !options.quiet;
  let bar: SingleBar | undefined;
  let barEpoch = -1;
  let started = 0;
  return {
    step(e) {
      if (!tty) return;
      if (barEpoch !== e.epoch) {
        bar?.stop();
        bar = new SingleBar({ format: `epoch ${e.epoch + 1} [{bar}] {value}/{total} loss {loss} {rate} steps/s eta {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
        bar.start(e.stepsInEpoch, 0, { loss: "-", rate: "-" });
        barEpoch = e.epoch;
        started = performance.now();
      }
      const rate = e.stepInEpoch / ((performance.now() - started) / 1000);
      bar!.update(e.stepInEpoch, { loss: fmt(e.loss), rate: rate.toFixed(1) });
    },
    epoch(e, total) {
      bar?.stop();
      bar = undefined;
      barEpoch = -1;
      // Long runs print about twenty epoch lines, always including the last.
      const every = Math.ceil(total / 20);
      if (!options.quiet && ((e.epoch + 1) % every === 0 || e.epoch + 1 === total)) out(epochText(e, total));
    },
    line(text) {
      if (!options.quiet) out(text);
    },
    warn(text) {
      if (options.warnings === false) return;
      bar?.stop();
      bar = undefined;
      barEpoch = -1;
      process.stderr.write(text + "\n");
    },
    done() {
      bar?.stop();
    },
  };
}
