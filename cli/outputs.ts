// The files a command will write, checked before it does any work: an output
// must not be one of the run's inputs (`dlc compile m.ts -o m.ts` would replace
// the model with its artifact, `predict --out x.csv --data x.csv` the data),
// and it must be writable, so that a training run does not spend an epoch and
// then fail on a missing folder.
//
// "The same file" is decided on what the paths resolve to, not how they are
// spelled: symbolic links are followed (realpath of the file, or of its folder
// when it does not exist yet) and hard links compare by device and inode.

import { accessSync, constants, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./exit.js";

/** A path the user named, and how (`--data`, `the model`), for messages; undefined when not given. */
export interface NamedPath {
  readonly what: string;
  readonly path: string;
}

/** `-` is standard output, never a file. */
const isStdout = (path: string) => path === "-";

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The path with every symbolic link resolved, as far as it exists. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

export function sameFile(a: string, b: string): boolean {
  const sa = statOrUndefined(a);
  const sb = statOrUndefined(b);
  if (sa && sb && sa.isFile() && sb.isFile()) return sa.dev === sb.dev && sa.ino === sb.ino;
  return canonical(a) === canonical(b);
}

/** Throws a UsageError when `output` cannot be written as a new or replaced file. */
function checkWritable(output: NamedPath): void {
  const { what, path } = output;
  const target = statOrUndefined(path);
  if (target?.isDirectory()) throw new UsageError(`${what} '${path}' is a folder; expected a file name`);
  const dir = dirname(path);
  let folder: Stats;
  try {
    folder = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new UsageError(`${what} '${path}': a component of '${dir}' is not a folder`);
    throw new UsageError(`${what} '${path}': the folder '${dir}' does not exist`);
  }
  if (!folder.isDirectory()) throw new UsageError(`${what} '${path}': '${dir}' is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${what} '${path}': the folder '${dir}' is not writable`);
  }
}

/**
 * Checks every output before the command starts: it is writable, and it is
 * none of `inputs`. `exempt` pairs an output with an input it may replace
 * (train --save onto its own --resume checkpoint).
 */
export function checkOutputs(outputs: readonly (NamedPath | undefined)[], inputs: readonly (NamedPath | undefined)[], exempt: readonly (readonly [NamedPath | undefined, NamedPath | undefined])[] = []): void {
  for (const output of outputs) {
    if (output === undefined || isStdout(output.path)) continue;
    for (const input of inputs) {
      if (input === undefined || exempt.some(([o, i]) => o === output && i === input)) continue;
      if (sameFile(output.path, input.path)) {
        throw new UsageError(`${output.what} '${output.path}' is the same file as ${input.what} '${input.path}': refusing to overwrite an input; choose another file name`);
      }
    }
    checkWritable(output);
  }
}

/** A NamedPath, or undefined when the option was not given. */
export function named(what: string, path: string | undefined): NamedPath | undefined {
  return path === undefined ? undefined : { what, path };
}
