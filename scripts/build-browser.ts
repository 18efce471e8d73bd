// The browser build, run by `npm run build` after tsc (node --import tsx): esbuild bundles
//
//   runtime/browser.ts -> dist/browser/runtime.js       dlc/browser, an ES module
//   web/app.ts         -> dist/browser/serve/app.js     the page `dlc serve` serves,
//                                                      with web/index.html and web/style.css
//   web/trainer.ts     -> dist/browser/serve/trainer.js the Web Worker that trains for it
//
// for platform "browser" with no Node builtin external: a module anywhere in
// the graph that imports node:fs, fs, stream, ... fails the build here, not
// in a user's browser. Two substitutions are the only exceptions, both on
// purpose: csv-parse's stream-free parser becomes csv-parse's own browser
// build (which brings its Buffer along), and `webgpu` (Dawn, which
// runtime/webgpu/device.ts imports only in Node) becomes an empty module.

import * as esbuild from "esbuild";
import type { BuildOptions, Plugin } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Dawn is for Node: in a browser, navigator.gpu is the WebGPU, and the import is never reached. */
const noDawn: Plugin = {
  name: "no-dawn",
  setup(build) {
    build.onResolve({ filter: /^webgpu$/ }, () => ({ path: "webgpu", namespace: "no-dawn" }));
    build.onLoad({ filter: /.*/, namespace: "no-dawn" }, () => ({ contents: "export {};", loader: "js" }));
  },
};

/** esbuild's options for every browser bundle (tests build with them too). */
export const BROWSER_OPTIONS: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  alias: { "csv-parse/sync": "csv-parse/browser/esm/sync" },
  plugins: [noDawn],
  logLevel: "warning",
};

export async function buildBrowser(out = join(ROOT, "dist/browser")): Promise<void> {
  await esbuild.build({ ...BROWSER_OPTIONS, entryPoints: ["runtime/browser.ts"], outfile: join(out, "runtime.js") });
  for (const page of ["app", "trainer"]) await esbuild.build({ ...BROWSER_OPTIONS, entryPoints: [`web/${page}.ts`], outfile: join(out, `serve/${page}.js`), minify: true });
  mkdirSync(join(out, "serve"), { recursive: true });
  for (const file of ["index.html", "style.css"]) copyFileSync(join(ROOT, "web", file), join(out, "serve", file));
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  try {
    await buildBrowser();
  } catch {
    // esbuild has printed the errors.
    process.exit(1);
  }
}
