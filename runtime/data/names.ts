// Column and input names in error messages: lists are abbreviated so that a
// 785-column header still fits on the one line a DataError allows, and a
// misspelled name gets a did-you-mean, as a compiler would give.

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
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}
