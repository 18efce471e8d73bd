// Imports stay inside the model's folder: the folder of the model file given
// to the compiler, and below it, after symlinks are resolved. Anything else is
// refused at the import statement, naming the resolved path, before the file
// is read; and no diagnostic ever repeats a line of a file that is not
// TypeScript.

import test from "ava";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileModel } from "../../../compiler/frontend/compile.js";
import { CompileError, formatDiagnostic } from "../../../compiler/frontend/diagnostics.js";

const SECRET = "SECRET-LINE do not print";
const LOSS = `export function loss(x: Tensor<["batch", 2]>): Tensor<[]> { return mean(x); }`;

/** A temporary tree: outside.ts and secret.txt next to proj/, the model's folder. */
function tree(): { top: string; proj: string } {
  const top = realpathSync(mkdtempSync(join(tmpdir(), "dlc-imports-")));
  const proj = join(top, "proj");
  mkdirSync(join(proj, "lib"), { recursive: true });
  // Both would fail to parse on their first line, so a diagnostic would echo it if they were read.
  writeFileSync(join(top, "outside.ts"), `${SECRET}\nexport const k = 1;\n`);
  writeFileSync(join(top, "secret.txt"), `${SECRET}\n`);
  writeFileSync(join(proj, "notes.txt"), `${SECRET}\n`);
  writeFileSync(join(proj, "sibling.ts"), `export const width = 2;\n`);
  writeFileSync(join(proj, "lib", "layers.ts"), `import { width } from "../sibling.js";\nexport const scale = width * 3;\n`);
  return { top, proj };
}

function model(proj: string, imports: string): string {
  const file = join(proj, "model.ts");
  writeFileSync(file, `import { type Tensor, mean } from "dlc";\n${imports}\n${LOSS}\n`);
  return file;
}

const sourceLine = (file: string, line: number) => readFileSync(file, "utf8").split(/\r?\n/)[line - 1];

function refused(t: import("ava").ExecutionContext, file: string, code: string, resolved: string): void {
  const error = t.throws(() => compileModel(file), { instanceOf: CompileError });
  const d = error.diagnostic;
  t.is(d.code, code as never, d.message);
  t.is(d.span?.file, file);
  t.is(d.span?.line, 2);
  t.is(d.span?.col, 1);
  t.true(d.message.includes(resolved), d.message);
  const text = formatDiagnostic(d, sourceLine);
  t.regex(text, /model\.ts:2:1 - error DLC\d{4}: /);
  t.regex(text, /\n2 \| import .*\n *\| \^+/);
  t.regex(text, /\nhint: .*folder|\nhint: .*\.ts/);
  t.false(text.includes("SECRET"), text);
}

test("an absolute import of a file outside the folder is refused at the import", (t) => {
  const { top, proj } = tree();
  refused(t, model(proj, `import { k } from ${JSON.stringify(join(top, "outside.ts"))};`), "DLC1008", join(top, "outside.ts"));
});

test("an absolute import of /etc/passwd is refused without reading it", (t) => {
  if (!existsSync("/etc/passwd")) return t.pass();
  const { proj } = tree();
  const file = model(proj, `import { root } from "/etc/passwd";`);
  refused(t, file, "DLC1008", "/etc/passwd");
  const text = formatDiagnostic((t.throws(() => compileModel(file)) as CompileError).diagnostic, sourceLine);
  t.notRegex(text, /root:/);
});

test("a relative import that climbs out of the folder is refused", (t) => {
  const { top, proj } = tree();
  refused(t, model(proj, `import { k } from "../outside.js";`), "DLC1008", join(top, "outside.ts"));
});

test("a symlink inside the folder that points outside is refused, naming where it leads", (t) => {
  const { top, proj } = tree();
  symlinkSync(join(top, "outside.ts"), join(proj, "link.ts"));
  refused(t, model(proj, `import { k } from "./link.js";`), "DLC1008", join(top, "outside.ts"));
  symlinkSync(join(top, "secret.txt"), join(proj, "text-link.ts"));
  refused(t, model(proj, `import { k } from "./text-link.js";`), "DLC1008", join(top, "secret.txt"));
});

test("a file inside the folder that is not TypeScript is refused, directly or through a .ts symlink", (t) => {
  const { proj } = tree();
  refused(t, model(proj, `import { k } from "./notes.txt";`), "DLC1009", join(proj, "notes.txt"));
  symlinkSync(join(proj, "notes.txt"), join(proj, "notes.ts"));
  refused(t, model(proj, `import { k } from "./notes.js";`), "DLC1009", join(proj, "notes.txt"));
});

test("a model file that is a symlink to a non-TypeScript file is refused without showing it", (t) => {
  const { top, proj } = tree();
  const file = join(proj, "model.ts");
  symlinkSync(join(top, "secret.txt"), file);
  const error = t.throws(() => compileModel(file), { instanceOf: CompileError });
  t.is(error.diagnostic.code, "DLC1009");
  t.false(formatDiagnostic(error.diagnostic, sourceLine).includes("SECRET"));
});

test("a diagnostic located in a file that is not TypeScript never shows its lines", (t) => {
  let asked = false;
  const text = formatDiagnostic({ code: "DLC1000", message: "m", hint: "h", span: { file: "/etc/passwd", line: 1, col: 1, length: 4 }, notes: [] }, () => {
    asked = true;
    return "root:x:0:0";
  });
  t.false(asked);
  t.false(text.includes("root"));
  t.regex(text, /passwd:1:1 - error DLC1000: m\nhint: h$/);
});

test("imports of a sibling, a subfolder module and a symlink that stays inside still work", (t) => {
  const { proj } = tree();
  symlinkSync(join(proj, "lib", "layers.ts"), join(proj, "alias.ts"));
  const file = model(
    proj,
    [
      `import { width } from "./sibling.js";`,
      `import { scale } from "./lib/layers.js";`,
      `import { scale as again } from "./alias";`,
      `export function predict(x: Tensor<["batch", 2]>): Tensor<["batch", 2]> { return x * (width + scale + again); }`,
    ].join("\n"),
  );
  const program = compileModel(file);
  t.deepEqual(program.entries.map((g) => g.name).sort(), ["loss", "predict"]);
});
