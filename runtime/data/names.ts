// Column and input names in error messages: lists are abbreviated so that a
// 785-column header still fits on the one line a DataError allows, and a
// misspelled name gets a did-you-mean, as a compiler would give.

import { closest } from "../suggest.js";

/** `a, b, c`, or `a, b, c, ..., z` when there are more than `max` names. */
export function listNames(names: readonly string[], max = 6): string {
  if (names.length <= max) return names.join(", ");
  return [...names.slice(0, max - 3), "...", names[names.length - 1]!].join(", ");
}

/** `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'` (or `or`). */
export function quotedList(names: readonly string[], conjunction: "and" | "or" = "and"): string {
  const q = names.map((n) => `'${n}'`);
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} ${conjunction} ${q[q.length - 1]}`;
}

/** The candidate closest to `name`, if it is close enough to be a plausible typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  return closest(name, candidates);
}
