// Dimensions, static and symbolic.
//
// A dimension is either a number or a symbolic monomial: a product of named
// sizes bound at run time times an integer coefficient, written canonically as a
// string ("batch", "784*batch", "batch*seq"). Monomials are closed under the
// products and exact quotients that reshape needs, which is all shape inference
// asks of them: `reshape([batch, 784], [-1])` gives `784*batch`, and reshaping
// that to `[-1, 28, 28, 1]` gives `batch` back.

export type Dim = number | string;
export type Shape = readonly Dim[];

/** Run-time values of the symbolic sizes, e.g. `{ batch: 128 }`. */
export type DimEnv = Readonly<Record<string, number>>;

interface Monomial {
  readonly k: number;
  readonly syms: readonly string[]; // sorted, repeated for powers
}

/** The size assumed for a symbolic dimension (a batch) when a cost model chooses tiles before the sizes are known. */
const NOMINAL_SYMBOL = 128;

/** A dimension's size for cost models: symbols at NOMINAL_SYMBOL. */
export function nominal(d: Dim): number {
  if (typeof d === "number") return d;
  return d.split("*").reduce((acc, p) => acc * (/^\d+$/.test(p) ? Number(p) : NOMINAL_SYMBOL), 1);
}

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isSymbolName(s: string): boolean {
  return SYMBOL.test(s);
}

function parse(d: Dim): Monomial {
  if (typeof d === "number") return { k: d, syms: [] };
  let k = 1;
  const syms: string[] = [];
  for (const part of d.split("*")) {
    if (/^\d+$/.test(part)) k *= Number(part);
    else if (SYMBOL.test(part)) syms.push(part);
    else throw new Error(`malformed dimension '${d}'`);
  }
  return { k, syms: syms.sort() };
}

function format(m: Monomial): Dim {
  if (m.syms.length === 0 || m.k === 0) return m.k;
  return m.k === 1 ? m.syms.join("*") : `${m.k}*${m.syms.join("*")}`;
}

/** The canonical spelling of a dimension (a symbol name is already canonical). */
export function canonical(d: Dim): Dim {
  return format(parse(d));
}

export function isStatic(d: Dim): d is number {
  return typeof d === "number";
}

export function dimEq(a: Dim, b: Dim): boolean {
  return a === b || canonical(a) === canonical(b);
}

export function mulDim(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  const x = parse(a);
  const y = parse(b);
  return format({ k: x.k * y.k, syms: [...x.syms, ...y.syms].sort() });
}

/** a / b when it is an exact monomial, else undefined. */
export function divDim(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === "number" && typeof b === "number") return b !== 0 && a % b === 0 ? a / b : undefined;
  const x = parse(a);
  const y = parse(b);
  if (y.k === 0 || x.k % y.k !== 0) return undefined;
  const rest = [...x.syms];
  for (const s of y.syms) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return format({ k: x.k / y.k, syms: rest });
}

export function numel(shape: Shape): Dim {
  let n: Dim = 1;
  for (const d of shape) n = mulDim(n, d);
  return n;
}

export function symbolsOf(shape: Shape): string[] {
  const out = new Set<string>();
  for (const d of shape) for (const s of parse(d).syms) out.add(s);
  return [...out].sort();
}

export function evalDim(d: Dim, env: DimEnv): number {
  if (typeof d === "number") return d;
  const m = parse(d);
  let n = m.k;
  for (const s of m.syms) {
    const v = env[s];
    if (v === undefined) throw new Error(`symbolic dimension '${s}' has no value`);
    n *= v;
  }
  return n;
}

export function evalShape(shape: Shape, env: DimEnv): number[] {
  return shape.map((d) => evalDim(d, env));
}

export function shapeEq(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i]!));
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}
