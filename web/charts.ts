// The live charts, one point per epoch, drawn by uPlot (loaded by index.html
// from /vendor, served from the uplot package: the page needs no network).

import type uPlot from "uplot";

function uPlotClass(): typeof uPlot {
  const c = (globalThis as { uPlot?: typeof uPlot }).uPlot;
  if (!c) throw new Error("uPlot did not load (/vendor/uPlot.iife.min.js)");
  return c;
}

const COLORS = ["#2f6fdb", "#e07b24", "#1e8a4c"];

/** Series over epochs (1, 2, ...), redrawn as epochs come in. */
export class EpochChart {
  private readonly plot: uPlot;
  private readonly data: (number | null)[][];

  constructor(element: HTMLElement, labels: readonly string[]) {
    this.data = [[], ...labels.map(() => [])];
    const width = Math.max(320, element.clientWidth);
    const series = [{ label: "epoch" }, ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length]!, width: 2, points: { show: false } }))];
    this.plot = new (uPlotClass())({ width, height: 200, scales: { x: { time: false } }, series, axes: [{ label: "epoch" }, {}] }, this.data as uPlot.AlignedData, element);
  }

  add(epoch: number, values: readonly (number | undefined)[]): void {
    this.data[0]!.push(epoch);
    values.forEach((v, i) => this.data[i + 1]!.push(v ?? null));
    this.plot.setData(this.data as uPlot.AlignedData);
  }

  destroy(): void {
    this.plot.destroy();
  }
}
