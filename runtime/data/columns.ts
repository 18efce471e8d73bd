// Which CSV columns feed which model input, decided from the header alone so
// that a data set that does not fit the model fails before a single row is
// read. The rules, in order:
//
//   1. columns listed in `ignore` are dropped (predict ignores the label);
//   2. the `label` column binds to the one width-1 input that no column name
//      matches, preferring an i32 input (an input named like the label column
//      simply takes it by rule 3);
//   3. an input named like a column takes that column (it must be width 1);
//   4. at most one input is left: it takes all the remaining columns, in file
//      order, and their count must be its width. These are the features.
//      When `features` names them (the columns a checkpoint was trained on),
//      they bind by name instead, in that order, wherever they are in the
//      file: a missing one is named, and a column left over is an error as
//      below (a model trained on four columns does not silently read five).
//
// Every column must end up bound or ignored: a stray column is more likely a
// mistake (a label column the model does not know about) than data to drop.

import type { Dim } from "../program/dim.js";
import { closestName, listNames, quotedList } from "./names.js";
import { DataError, type InputSpec } from "./types.js";

export interface ColumnOptions {
  /** The label column, bound to the model's label input when names do not match. */
  readonly label?: string;
  /** Columns to drop when present. */
  readonly ignore?: readonly string[];
  /** The feature columns by name, in the order the features input takes them (rule 4). */
  readonly features?: readonly string[];
}

/** The per-row layout of an input: its declared shape without the batch dim. */
export interface RowLayout {
  readonly width: number;
  readonly rowShape: readonly number[];
}

export interface BoundInput extends RowLayout {
  readonly spec: InputSpec;
  /** Header indices of the columns this input takes, in row order. */
  readonly columns: readonly number[];
  readonly how: "name" | "label" | "features";
}

export interface ColumnBinding {
  /** In the order of the specs. */
  readonly inputs: readonly BoundInput[];
  /** Per header column: the index of its input in `inputs`, or -1 when ignored. */
  readonly columnInput: Int32Array;
  /** Per header column: its position within its input's row. */
  readonly columnOffset: Int32Array;
  /** The input bound by rule 4, if any. */
  readonly features: string | undefined;
  /** The names of the columns the features input took, in its order. */
  readonly featureColumns: readonly string[] | undefined;
}

/** The row layout of `spec`: the first dim is the batch, the others must be static. */
export function rowLayout(file: string, spec: InputSpec): RowLayout {
  const shape = spec.shape;
  if (shape.length === 0) {
    throw new DataError(`${file}: input '${spec.name}' is a scalar; expected a shape with a batch dimension first`);
  }
  const rowShape: number[] = [];
  for (const d of shape.slice(1)) {
    if (typeof d !== "number") {
      throw new DataError(
        `${file}: input '${spec.name}' has shape ${formatDims(shape)} with symbolic '${d}' after the batch dimension; expected only the first dimension to be symbolic`,
      );
    }
    if (!Number.isSafeInteger(d) || d <= 0) {
      throw new DataError(`${file}: input '${spec.name}' has shape ${formatDims(shape)}; expected positive integer sizes after the batch dimension`);
    }
    rowShape.push(d);
  }
  return { width: rowShape.reduce((a, b) => a * b, 1), rowShape };
}

/** Binds the header's columns to the inputs (see the file header); `line` is the header's line. */
export function bindColumns(
  file: string,
  line: number,
  header: readonly string[],
  specs: readonly InputSpec[],
  options: ColumnOptions = {},
): ColumnBinding {
  const at = `${file}:${line}`;
  const layouts = specs.map((s) => rowLayout(file, s));
  // Rule 1: ignored columns take no part in what follows.
  const ignored = new Set(options.ignore ?? []);
  const active = header.map((_, j) => j).filter((j) => !ignored.has(header[j]!));
  const activeNames = new Set(active.map((j) => header[j]!));
  const taken = new Map<number, { columns: number[]; how: BoundInput["how"] }>(); // spec index -> columns
  const used = new Set<number>();

  // A column bound by name must be unambiguous.
  const columnNamed = (name: string, input: string): number => {
    const js = active.filter((j) => header[j] === name);
    if (js.length > 1) {
      throw new DataError(
        `${at}: column '${name}' appears ${js.length} times in the header (columns ${js.map((j) => j + 1).join(", ")}); expected one column to bind input '${input}'`,
      );
    }
    return js[0]!;
  };

  // Rule 2: the label.
  const label = options.label;
  if (label !== undefined) {
    if (ignored.has(label) && header.includes(label)) {
      throw new DataError(`${at}: column '${label}' is both the label and ignored; expected one or the other`);
    }
    if (!activeNames.has(label)) {
      const guess = closestName(label, [...activeNames]);
      throw new DataError(
        `${at}: no column '${label}' for the label; the header has ${listNames(header)}${guess === undefined ? "" : `; did you mean '${guess}'?`}`,
      );
    }
    if (!specs.some((s) => s.name === label)) {
      const candidates = specs
        .map((_, i) => i)
        .filter((i) => layouts[i]!.width === 1 && !activeNames.has(specs[i]!.name));
      const ints = candidates.filter((i) => specs[i]!.dtype === "i32");
      const pick = ints.length > 0 ? ints : candidates;
      if (pick.length === 0) {
        throw new DataError(
          `${at}: no input for label column '${label}'; expected one width-1 input not named after a column (inputs: ${describeInputs(specs, layouts)})`,
        );
      }
      if (pick.length > 1) {
        throw new DataError(
          `${at}: label column '${label}' could bind to input ${quotedList(pick.map((i) => specs[i]!.name), "or")}; expected exactly one width-1 input not named after a column`,
        );
      }
      const j = columnNamed(label, specs[pick[0]!]!.name);
      taken.set(pick[0]!, { columns: [j], how: "label" });
      used.add(j);
    }
  }

  // Rule 3: inputs named like a column.
  specs.forEach((s, i) => {
    if (taken.has(i) || !activeNames.has(s.name)) return;
    if (layouts[i]!.width !== 1) {
      throw new DataError(
        `${at}: input '${s.name}' is bound to the single column '${s.name}' but takes ${layouts[i]!.width} values per row; expected a width-1 input`,
      );
    }
    const j = columnNamed(s.name, s.name);
    taken.set(i, { columns: [j], how: "name" });
    used.add(j);
  });

  // Rule 4: one input takes the rest.
  const rest = active.filter((j) => !used.has(j));
  const restNames = rest.map((j) => header[j]!);
  const unbound = specs.map((_, i) => i).filter((i) => !taken.has(i));
  let features: string | undefined;
  if (unbound.length > 1) {
    const names = unbound.map((i) => specs[i]!.name);
    throw new DataError(
      `${at}: inputs ${quotedList(names)} match no column; expected all but one of them named after a column, or --label naming the label column (the header has ${listNames(header)})`,
    );
  }
  let featureColumns: string[] | undefined;
  if (unbound.length === 1 && options.features !== undefined) {
    const i = unbound[0]!;
    const columns = byName(at, header, rest, options.features, specs[i]!.name, layouts[i]!.width);
    for (const j of columns) used.add(j);
    taken.set(i, { columns, how: "features" });
    features = specs[i]!.name;
    featureColumns = columns.map((j) => header[j]!);
    const left = rest.filter((j) => !used.has(j)).map((j) => header[j]!);
    if (left.length > 0) {
      const which = left.length === 1 ? `column ${left[0]} is` : `columns ${listNames(left)} are`;
      throw new DataError(`${at}: ${which} not among the ${plural(options.features.length, "feature column")} '${specs[i]!.name}' was trained on; expected only those columns (and the label)`);
    }
  } else if (unbound.length === 1) {
    const i = unbound[0]!;
    const width = layouts[i]!.width;
    if (rest.length !== width) {
      const remain = rest.length === 0 ? "0 remain" : `${rest.length} remain (${listNames(restNames)})`;
      const hint = looksLikeData(header) ? "; the first row looks like data, expected a header row of column names" : "";
      throw new DataError(`${at}: '${specs[i]!.name}' expects ${plural(width, "column")}, ${remain}${hint}`);
    }
    taken.set(i, { columns: rest, how: "features" });
    features = specs[i]!.name;
    featureColumns = restNames;
  } else if (rest.length > 0) {
    const which = rest.length === 1 ? `column ${restNames[0]} matches` : `columns ${listNames(restNames)} match`;
    throw new DataError(`${at}: ${which} no input; expected every column bound to an input or ignored`);
  }

  const inputs: BoundInput[] = specs.map((spec, i) => ({ spec, ...layouts[i]!, ...taken.get(i)! }));
  const columnInput = new Int32Array(header.length).fill(-1);
  const columnOffset = new Int32Array(header.length);
  inputs.forEach((input, k) =>
    input.columns.forEach((j, offset) => {
      columnInput[j] = k;
      columnOffset[j] = offset;
    }),
  );
  return { inputs, columnInput, columnOffset, features, featureColumns };
}

/**
 * The header indices (among `rest`) of the columns `names`, in that order; a
 * name that appears k times in `names` takes its first k columns of that name.
 */
function byName(at: string, header: readonly string[], rest: readonly number[], names: readonly string[], input: string, width: number): number[] {
  if (names.length !== width) {
    throw new DataError(`${at}: '${input}' takes ${plural(width, "column")}, but ${plural(names.length, "feature column name")} were recorded; expected the checkpoint of this model`);
  }
  const free = new Map<string, number[]>();
  for (const j of rest) {
    const list = free.get(header[j]!) ?? [];
    list.push(j);
    free.set(header[j]!, list);
  }
  return names.map((name) => {
    const j = free.get(name)?.shift();
    if (j === undefined) {
      const guess = closestName(name, [...free].filter(([, js]) => js.length > 0).map(([n]) => n));
      throw new DataError(
        `${at}: '${input}' expects column '${name}', which the header lacks (it has ${listNames(header)})${guess === undefined ? "" : `; did you mean '${guess}'?`}`,
      );
    }
    return j;
  });
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function formatDims(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}

function describeInputs(specs: readonly InputSpec[], layouts: readonly RowLayout[]): string {
  return specs.map((s, i) => `${s.name} ${formatDims(layouts[i]!.rowShape)} ${s.dtype}`).join(", ");
}

/** A header whose names are all numbers is most likely the first data row of a file without a header. */
function looksLikeData(header: readonly string[]): boolean {
  return header.length > 0 && header.every((h) => h.trim() !== "" && Number.isFinite(Number(h)));
}
