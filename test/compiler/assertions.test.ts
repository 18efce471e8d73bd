// Fusion and code generation say what they know in types: kernel groups are
// a union narrowed by kind, inputs and table entries are read through checked
// helpers (compiler/ir/checked.ts). No non-null assertion (`x!`) and no
// `as never` is left to hide a wrong guess there.

import test from "ava";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { Project, SyntaxKind } from "ts-morph";
import { ROOT } from "../helpers/paths.js";

const FOLDERS = ["compiler/fusion", "compiler/codegen"];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

test("compiler/fusion and compiler/codegen hold no non-null assertion and no `as never`", (t) => {
  const project = new Project({ skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true });
  const files = FOLDERS.flatMap((f) => sources(join(ROOT, f)));
  t.true(files.length >= 10, `${files.length} files`);
  const found: string[] = [];
  for (const file of files) {
    const source = project.addSourceFileAtPath(file);
    const at = (n: { getStartLineNumber(): number; getText(): string }) => `${relative(ROOT, file)}:${n.getStartLineNumber()}: ${n.getText()}`;
    for (const n of source.getDescendantsOfKind(SyntaxKind.NonNullExpression)) found.push(at(n));
    for (const n of source.getDescendantsOfKind(SyntaxKind.AsExpression)) if (n.getTypeNode()?.getKind() === SyntaxKind.NeverKeyword) found.push(at(n));
  }
  t.deepEqual(found, []);
});
