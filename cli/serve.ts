// `dlc serve model.dlc [--weights w.safetensors] [--data train.csv] [--port N] [--host [address]]`:
// a local web server of one page that trains the model in the browser
// (web/app.ts draws; web/trainer.ts, a Web Worker, trains on WebGPU or the
// CPU through dlc/browser, on threads where the page is cross-origin
// isolated, as this server's headers make it), with the artifact,
// the weights and the data it was given. Everything the page needs, its chart
// library (uPlot, from the uplot package) included, comes from this server:
// the page works offline.
//
// Every input is checked before the server starts, with the errors of the
// other commands (exit code 2): the artifact, the weights against the model,
// the data bound to the model's `loss`. The server then runs until SIGINT or
// SIGTERM, and exits 0.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { parseArtifact } from "../runtime/artifact/read.js";
import { checkFinite } from "../runtime/checkpoint/checkpoint.js";
import { isGzipName } from "../runtime/data/source.js";
import { entryOf, type ModelProgram } from "../runtime/program/model.js";
import { readCheckpoint } from "../runtime/train/checkpoint-file.js";
import { loadFor } from "../runtime/train/load.js";
import { RuntimeError, UsageError } from "./exit.js";
import { compilationOf } from "./model.js";
import { ROUTES, type PageConfig } from "./serve-protocol.js";
import { serveFiles, type StaticFile } from "./static-server.js";
import { printable } from "./terminal.js";

export interface ServeOptions {
  weights?: string;
  data?: string;
  port: number;
  /** --host alone (true): every interface; --host ADDRESS: that one; absent: 127.0.0.1. */
  host?: string | true;
  json?: boolean;
  quiet?: boolean;
}

/** The page's own files, built by scripts/build-browser.ts next to dist/cli/. */
const PAGE_DIR = new URL("../browser/serve/", import.meta.url);

const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", json: "application/json", bytes: "application/octet-stream", csv: "text/csv; charset=utf-8" };

export async function runServe(file: string, o: ServeOptions): Promise<void> {
  const { model, artifact } = await modelOf(file);
  const files = new Map<string, StaticFile>([...pageFiles(), [ROUTES.model, { type: TYPES.bytes, body: artifact }]]);
  if (o.weights !== undefined) {
    // Its errors now, as dlc eval's, not in the page.
    checkFinite(readCheckpoint(model, o.weights, false).values, o.weights);
    files.set(ROUTES.weights, { type: TYPES.bytes, body: readFileSync(o.weights) });
  }
  if (o.data !== undefined) files.set(ROUTES.data, { type: TYPES.csv, body: await dataText(model, o.data) });
  const config: PageConfig = { model: basename(file), weights: o.weights === undefined ? null : basename(o.weights), data: o.data === undefined ? null : basename(o.data).replace(/\.gz$/i, "") };
  files.set(ROUTES.config, { type: TYPES.json, body: new TextEncoder().encode(JSON.stringify(config)) });

  const host = o.host === undefined ? "127.0.0.1" : o.host === true ? "0.0.0.0" : o.host;
  const listening = await serveFiles(files, host, o.port).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "EADDRINUSE") throw new UsageError(`port ${o.port} is in use on ${host}: pick another with --port (0 picks a free one)`);
    if (e.code === "EACCES") throw new UsageError(`no permission to listen on port ${o.port}: use a port above 1023`);
    if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") throw new UsageError(`--host ${host}: not an address of this machine`);
    throw new RuntimeError(`cannot listen on ${host}:${o.port}: ${e.message}`);
  });
  // Listen for Ctrl-C before the URL is out: whoever reads it may send SIGINT at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void listening.close().then(resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  if (o.json) process.stdout.write(JSON.stringify({ url: listening.url, model: config.model, weights: config.weights, data: config.data }) + "\n");
  else if (!o.quiet) {
    process.stdout.write(`dlc serve: ${printable(config.model)} at ${listening.url} (Ctrl-C stops)\n`);
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
      process.stdout.write("note: browsers give WebGPU and threads only to secure pages: from another machine the page trains on the CPU on one thread, unless served over HTTPS\n");
    }
  }
  await stopped;
}

/** The artifact's bytes and its model: a .dlc file as it is, a .ts file compiled (as `dlc compile -o` would). */
async function modelOf(file: string): Promise<{ model: ModelProgram; artifact: Uint8Array }> {
  if (file.endsWith(".ts") || file.endsWith(".mts")) {
    const c = await compilationOf(file);
    const variant = { training: c.hasLoss(), webgpu: true };
    return { model: c.model(variant), artifact: c.artifact(variant) };
  }
  if (!file.endsWith(".dlc")) throw new UsageError(`'${file}' is not a model: expected a .ts file or a compiled .dlc artifact`);
  let artifact: Uint8Array;
  try {
    artifact = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read '${file}': ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  return { model: parseArtifact(artifact, file).model, artifact };
}

/** The CSV text of `path` (gunzipped here, so the page gets text), once it has bound to the model as the page will bind it. */
async function dataText(model: ModelProgram, path: string): Promise<Uint8Array> {
  const loss = entryOf(model, "loss");
  if (!loss) throw new UsageError("--data is for training, and the model has no `loss` entry point");
  const label = model.train?.config.label;
  await loadFor(loss, path, label === undefined ? {} : { label });
  const bytes = readFileSync(path);
  return isGzipName(path) ? gunzipSync(bytes) : bytes;
}

/** The page (dist/browser/serve) and uPlot's files (from the uplot package). */
function pageFiles(): [string, StaticFile][] {
  const read = (url: URL) => {
    try {
      return readFileSync(url);
    } catch {
      throw new RuntimeError(`the page is not built (${fileURLToPath(url)} is missing): run \`npm run build\` in the dlc folder`);
    }
  };
  const uplot = (name: string) => pathToFileURL(createRequire(import.meta.url).resolve(`uplot/dist/${name}`));
  return [
    [ROUTES.page, { type: TYPES.html, body: read(new URL("index.html", PAGE_DIR)) }],
    [ROUTES.script, { type: TYPES.js, body: read(new URL("app.js", PAGE_DIR)) }],
    [ROUTES.trainer, { type: TYPES.js, body: read(new URL("trainer.js", PAGE_DIR)) }],
    [ROUTES.style, { type: TYPES.css, body: read(new URL("style.css", PAGE_DIR)) }],
    [ROUTES.chartScript, { type: TYPES.js, body: read(uplot("uPlot.iife.min.js")) }],
    [ROUTES.chartStyle, { type: TYPES.css, body: read(uplot("uPlot.min.css")) }],
  ];
}
