// What `dlc serve` and its page (web/app.ts, and the Web Worker that trains,
// web/trainer.ts) agree on: the URLs the server answers and the configuration
// the page reads first. Plain data, no Node: the page's bundles include this
// module.

export const ROUTES = {
  page: "/",
  script: "/app.js",
  trainer: "/trainer.js",
  style: "/style.css",
  chartScript: "/vendor/uPlot.iife.min.js",
  chartStyle: "/vendor/uPlot.min.css",
  config: "/config.json",
  model: "/model.dlc",
  weights: "/weights.safetensors",
  data: "/data.csv",
} as const;

/** /config.json: the file names the user gave (for the page to show and to name downloads); null where none was given. */
export interface PageConfig {
  readonly model: string;
  readonly weights: string | null;
  readonly data: string | null;
}
