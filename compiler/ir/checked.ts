// Checked reads: a node's inputs, a map's entries, the first of a list that
// cannot be empty. What one of them lacks is the compiler's own bug, reported
// as an internal error where it happens rather than as an undefined that
// surfaces much later (in a kernel's text, say).

import type { Node } from "./node.js";

/** Input `i` of n (the verifier checks every op's arity). */
export function inputAt(n: Node, i: number): Node {
  const x = n.inputs[i];
  if (x === undefined) throw new Error(`internal: ${n.op} has no input ${i}`);
  return x;
}

/** m's entry for `key`; `what` names the table in the error. */
export function lookup<K, V>(m: ReadonlyMap<K, V>, key: K, what: string): V {
  const v = m.get(key);
  if (v === undefined) throw new Error(`internal: no entry in ${what}`);
  return v;
}

/** A list with at least one element: its first is always there. */
export type NonEmpty<T> = readonly [T, ...T[]];

export const isNonEmpty = <T>(xs: readonly T[]): xs is NonEmpty<T> => xs.length > 0;

export function nonEmpty<T>(xs: readonly T[], what: string): NonEmpty<T> {
  if (!isNonEmpty(xs)) throw new Error(`internal: ${what} is empty`);
  return xs;
}
