// The browser build (scripts/build-browser.ts) keeps Node out of the browser:
// a Node builtin anywhere in a bundle's import graph fails the build, and the
// runtime's bundle is whole (it imports nothing, Dawn and the file readers
// are not in it).

import test from "ava";
import * as esbuild from "esbuild";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROWSER_OPTIONS } from "../../scripts/build-browser.js";
import { ROOT } from "../helpers/paths.js";

const dir = mkdtempSync(join(tmpdir(), "dlc-build-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (entry: string) => esbuild.build({ ...BROWSER_OPTIONS, entryPoints: [entry], write: false, metafile: true, logLevel: "silent" });

for (const [what, source, builtin] of [
  ["node:fs", 'import { readFileSync } from "node:fs"; console.log(readFileSync);', "node:fs"],
  ["fs, without the prefix", 'import { readFileSync } from "fs"; console.log(readFileSync);', "fs"],
  ["a runtime module that reads files", `import { loadArtifact } from ${JSON.stringify(join(ROOT, "runtime/artifact/file.ts"))}; console.log(loadArtifact);`, "node:fs"],
] as const) {
  test(`a browser bundle that reaches ${what} fails to build`, async (t) => {
    const entry = join(dir, `${what.replace(/\W+/g, "-")}.ts`);
    writeFileSync(entry, source);
    const e = await t.throwsAsync(bundle(entry));
    t.regex(e.message, new RegExp(`Could not resolve "${builtin}"`));
  });
}

test("the browser runtime bundles whole: no imports left, no Dawn, no file readers", async (t) => {
  const { metafile } = await bundle("runtime/browser.ts");
  const [output] = Object.values(metafile.outputs);
  t.deepEqual(output!.imports, []);
  const inputs = Object.keys(metafile.inputs);
  t.true(inputs.includes("runtime/browser.ts"));
  for (const nodeOnly of ["runtime/artifact/file.ts", "runtime/checkpoint/file.ts", "runtime/data/load.ts", "runtime/data/source.ts", "runtime/train/load.ts", "runtime/train/checkpoint-file.ts"]) t.false(inputs.includes(nodeOnly), nodeOnly);
  t.false(inputs.some((i) => i.includes("node_modules/webgpu")), "Dawn is not bundled");
});
