// `dlc train --plot curve.svg`: the run's history (history.ts) as a
// self-contained SVG, loss on the left and accuracy on the right (a
// regression's test MAE there instead; a model with neither draws the loss
// alone). Train series are solid, test series dashed. Hand-written, like the
// benchmark's chart: a few polylines and "nice" ticks need no library, and
// the file opens in any browser or image viewer.

import type { EpochRecord } from "./history.js";

interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly values: readonly (number | undefined)[];
}

interface Panel {
  readonly title: string;
  readonly series: readonly Series[];
  /** Keep the y axis within these bounds (accuracy lies in [0, 1]). */
  readonly clamp?: readonly [number, number];
}

const PANEL_W = 460;
const PANEL_H = 300;
const MARGIN = { left: 56, right: 28, top: 36, bottom: 64 };
const TRAIN = "#1f77b4";
const TEST = "#d62728";

export function plotHistory(history: readonly EpochRecord[], title: string): string {
  const col = <K extends keyof EpochRecord>(k: K) => history.map((r) => r[k] as number | undefined);
  const has = (k: keyof EpochRecord) => history.some((r) => r[k] !== undefined);
  const panels: Panel[] = [
    {
      title: "loss",
      series: [
        { name: "train loss", color: TRAIN, dashed: false, values: col("train_loss") },
        ...(has("test_loss") ? [{ name: "test loss", color: TEST, dashed: true, values: col("test_loss") }] : []),
      ],
    },
  ];
  if (has("train_accuracy") || has("test_accuracy")) {
    panels.push({
      title: "accuracy",
      clamp: [0, 1],
      series: [
        ...(has("train_accuracy") ? [{ name: "train accuracy", color: TRAIN, dashed: false, values: col("train_accuracy") }] : []),
        ...(has("test_accuracy") ? [{ name: "test accuracy", color: TEST, dashed: true, values: col("test_accuracy") }] : []),
      ],
    });
  } else if (has("test_mae")) {
    panels.push({ title: "mean absolute error", series: [{ name: "test MAE", color: TEST, dashed: true, values: col("test_mae") }] });
  }
  const epochs = history.map((r) => r.epoch);
  const width = PANEL_W * panels.length;
  const height = PANEL_H + 28;
  const body = panels.map((p, i) => panelSvg(p, epochs, i * PANEL_W, 28)).join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    body,
    `</svg>`,
    "",
  ].join("\n");
}

function panelSvg(panel: Panel, epochs: readonly number[], x0: number, y0: number): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const finite = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  let [lo, hi] = finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
  // A loss that ends near zero reads best against zero.
  if (lo >= 0 && lo < hi / 2) lo = 0;
  if (panel.clamp) [lo, hi] = [Math.max(panel.clamp[0], lo), Math.min(panel.clamp[1], hi)];
  const yTicks = niceTicks(lo, hi, 5);
  const [ylo, yhi] = [yTicks[0]!, yTicks.at(-1)!];
  const [xlo, xhi] = [epochs[0] ?? 1, Math.max(epochs.at(-1) ?? 1, (epochs[0] ?? 1) + 1)];
  const sx = (e: number) => left + ((e - xlo) / (xhi - xlo)) * plotW;
  const sy = (v: number) => top + plotH - ((v - ylo) / (yhi - ylo || 1)) * plotH;
  const out: string[] = [`<g>`, `<text x="${left + plotW / 2}" y="${top - 12}" text-anchor="middle">${escapeXml(panel.title)}</text>`];
  for (const v of yTicks) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${f(sy(v))}" y2="${f(sy(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${f(sy(v) + 4)}" text-anchor="end">${tickLabel(v, yTicks)}</text>`);
  }
  for (const e of niceTicks(xlo, xhi, 6).filter((e) => Number.isInteger(e) && e >= xlo && e <= xhi)) {
    out.push(`<line x1="${f(sx(e))}" x2="${f(sx(e))}" y1="${top + plotH}" y2="${top + plotH + 4}" stroke="black"/>`);
    out.push(`<text x="${f(sx(e))}" y="${top + plotH + 18}" text-anchor="middle">${e}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">epoch</text>`);
  panel.series.forEach((s, i) => {
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    // A NaN or infinite value (a diverged run) breaks the line; values outside the axis are clipped to it.
    for (const run of runs(s.values, epochs)) {
      const points = run.map(([e, v]) => [f(sx(e)), f(sy(Math.min(yhi, Math.max(ylo, v))))] as const);
      if (points.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${points.map(([x, y]) => `${x},${y}`).join(" ")}"/>`);
      if (epochs.length <= 40) for (const [x, y] of points) out.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${s.color}"/>`);
    }
    const ly = top + plotH + 52;
    const lx = left + i * 190;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    const last = [...s.values].reverse().find((v) => v !== undefined);
    out.push(`<text x="${lx + 30}" y="${ly}">${escapeXml(s.name)}${last !== undefined && Number.isFinite(last) ? ` ${fmt(last)}` : ""}</text>`);
  });
  out.push(`</g>`);
  return out.join("\n");
}

/** The stretches of finite values, as (epoch, value) points. */
function runs(values: readonly (number | undefined)[], epochs: readonly number[]): [number, number][][] {
  const out: [number, number][][] = [[]];
  values.forEach((v, i) => {
    if (v === undefined) return;
    if (Number.isFinite(v)) out.at(-1)!.push([epochs[i]!, v]);
    else if (out.at(-1)!.length) out.push([]);
  });
  return out.filter((r) => r.length > 0);
}

/** About `count` evenly spaced round values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, lo + 0.5];
  const raw = (hi - lo) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v < hi + step * (1 - 1e-9); v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickLabel(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return v.toFixed(Math.min(digits, 8));
}

const f = (v: number) => v.toFixed(1);
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}
