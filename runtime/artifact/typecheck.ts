// The second half of validating an artifact's graph: its meaning. The
// structural check (validate.ts) made sure nodes are objects with known ops
// and earlier inputs; this one checks each op's attributes field by field,
// bounds every static size, and re-infers every node's shape and dtype with the
// same type rules the compiler used (runtime/program/shapes). A graph that
// passes is one the compiler could have built: no kernel ever sees an axis out
// of range, a shape that disagrees with its data, or a size past the limit.

import { isStatic, numel, shapeEq, formatShape, type Shape } from "../program/dim.js";
import { ELEMENTWISE_OPS, type ElementwiseOp } from "../program/elementwise.js";
import type { Op, OpAttrs } from "../program/ops.js";
import type { GraphProgram } from "../program/program.js";
import { inferType, ShapeError, type TensorType } from "../program/shapes/index.js";

/** The largest static element count of one tensor: 2^30 elements (4 GiB of f32). */
export const MAX_ELEMENTS = 2 ** 30;

export class GraphTypeError extends Error {}

type Check = (v: unknown) => string | undefined;

const isInt = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;
const isDim = (v: unknown) => isInt(v) || (typeof v === "string" && /^(\d+\*)?[A-Za-z_]\w*(\*[A-Za-z_]\w*)*$/.test(v));
const expect = (ok: boolean, what: string) => (ok ? undefined : `expected ${what}`);

const int: Check = (v) => expect(isInt(v), "an integer >= 0");
const u32: Check = (v) => expect(isInt(v) && v < 2 ** 32, "an integer from 0 to 2^32 - 1");
const positive: Check = (v) => expect(isInt(v, 1), "an integer >= 1");
const bool: Check = (v) => expect(typeof v === "boolean", "true or false");
const str: Check = (v) => expect(typeof v === "string", "a string");
const dtype: Check = (v) => expect(v === "f32" || v === "i32", '"f32" or "i32"');
const shape: Check = (v) => expect(Array.isArray(v) && v.every(isDim), "a shape");
const ints: Check = (v) => expect(Array.isArray(v) && v.every((x) => isInt(x)), "a list of integers >= 0");
const pair: Check = (v) => expect(Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x, 1)), "two integers >= 1");
const pads: Check = (v) => expect(Array.isArray(v) && v.length === 4 && v.every((x) => isInt(x)), "four integers >= 0");
const dim: Check = (v) => expect(isDim(v) && v !== 0, "a positive size");
const finite: Check = (v) => expect(typeof v === "number" && Number.isFinite(v), "a finite number");
const numberOrSize: Check = (v) => expect(typeof v === "number" || isDim(v), "a number or a size");
const init: Check = (v) => {
  const i = v as Record<string, unknown> | null;
  if (typeof i !== "object" || i === null) return "expected an initializer";
  const numeric: Record<string, string> = { const: "value", normal: "std", uniform: "limit" };
  if (!["zeros", "ones", "const", "he", "glorot", "lecun", "normal", "uniform"].includes(String(i.kind))) return "expected a known initializer";
  const field = numeric[String(i.kind)];
  return field && !(typeof i[field] === "number" && Number.isFinite(i[field])) ? `expected a number in '${field}'` : undefined;
};

const none = {} as const;
const window = { size: pair, stride: pair, pad: pads } as const;
const convolution = { stride: pair, pad: pads, dilation: pair, groups: positive } as const;

/** Every primitive's attributes, field by field; the mapped type demands an entry per op. */
const ATTRS: { readonly [O in Op]: { readonly [K in keyof OpAttrs[O]]-?: Check } } = {
  input: { name: str, shape, dtype },
  param: { name: str, shape, init },
  const: { value: numberOrSize, shape, dtype },
  iota: { axis: int, shape },
  random: { shape, salt: u32 },
  ...(Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, none])) as { readonly [O in ElementwiseOp]: typeof none }),
  cast: { to: dtype },
  sum: { axes: ints }, max: { axes: ints }, argmax: { axis: int },
  reshape: { shape }, broadcast: { shape, dims: ints }, transpose: { perm: ints },
  matmul: { transA: bool, transB: bool },
  conv2d: convolution,
  conv2dInputGrad: { ...convolution, inputSize: pair },
  conv2dFilterGrad: { ...convolution, kernelSize: pair },
  maxPool2d: window, maxPool2dGrad: window, avgPool2d: window, avgPool2dGrad: { ...window, inputSize: pair },
  gather: { axis: int }, scatterAdd: { axis: int, size: dim },
  cumsum: { axis: int, exclusive: bool, reverse: bool },
  slice: { begin: ints, size: shape }, pad: { before: ints, after: ints, value: finite },
};

function checkAttrs(op: Op, attrs: Record<string, unknown>, at: string): void {
  const fields = ATTRS[op] as Readonly<Record<string, Check>>;
  for (const key of Object.keys(attrs)) if (!Object.hasOwn(fields, key)) throw new GraphTypeError(`${at}.attrs.${key}: not an attribute of ${op}`);
  for (const [key, check] of Object.entries(fields)) {
    const problem = check(attrs[key]);
    if (problem) throw new GraphTypeError(`${at}.attrs.${key}: ${problem}`);
  }
}

function checkSize(s: Shape, at: string): void {
  const n = numel(s.filter(isStatic));
  if (typeof n === "number" && n > MAX_ELEMENTS) throw new GraphTypeError(`${at}: ${formatShape(s)} has ${n} elements, more than the limit of ${MAX_ELEMENTS}`);
}

/**
 * Checks a structurally valid graph program's attributes, sizes and types;
 * throws a GraphTypeError naming the first bad node by its path.
 */
export function typecheckGraph(g: GraphProgram, path: string): void {
  const types: TensorType[] = [];
  g.nodes.forEach((n, i) => {
    const at = `${path}.nodes[${i}]`;
    checkAttrs(n.op, n.attrs as unknown as Record<string, unknown>, at);
    checkSize(n.shape, `${at}.shape`);
    const inputs = n.inputs.map((j) => types[j] as TensorType);
    let t: TensorType;
    try {
      t = inferType(n.op, inputs, n.attrs);
    } catch (e) {
      if (e instanceof ShapeError || e instanceof Error) throw new GraphTypeError(`${at} (${n.op}): ${e.message}`);
      throw e;
    }
    if (!shapeEq(t.shape, n.shape) || t.dtype !== n.dtype) {
      throw new GraphTypeError(`${at} (${n.op}): recorded as ${n.dtype}${formatShape(n.shape)}, but its inputs and attributes give ${t.dtype}${formatShape(t.shape)}`);
    }
    types.push(t);
  });
  g.inputs.forEach((b, i) => {
    const n = g.nodes[b.node];
    if (!n || n.op !== "input" || n.attrs.name !== b.name) throw new GraphTypeError(`${path}.inputs[${i}]: node ${b.node} is not the input '${b.name}'`);
  });
}
