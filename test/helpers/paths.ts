import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: tests run with it as the working directory. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const fromRoot = (p: string) => fileURLToPath(new URL(p, new URL("../../", import.meta.url)));

/** Every .ts and .js file under the given folders of the repository, as paths relative to it. */
export function sourceFiles(...dirs: readonly string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return /\.(ts|js)$/.test(name) ? [path] : [];
    });
  return dirs.flatMap((d) => walk(join(ROOT, d))).map((f) => relative(ROOT, f));
}
