// Reading one CSV cell as a number, strictly: a plain decimal (`1`, `-2.5`,
// `1e-3`, `.5`), surrounding blanks allowed. Everything else is an error rather
// than a guess, because a silently zeroed cell trains a worse model without a
// word. Number() does the conversion (correctly rounded, and fast: this runs
// 47 million times for Fashion-MNIST), but it is too lenient on its own: it
// reads '' and blanks as 0, and accepts Infinity and 0x/0o/0b literals. Those
// are rejected here, with a regular expression only on the rare cells that
// start with a blank.

const PLAIN_DECIMAL = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

const ZERO = 48;
const NINE = 57;

/** The value of a cell, or NaN when it is not a plain finite decimal number. */
export function parseCell(text: string): number {
  const v = Number(text);
  if (v - v !== 0) return NaN; // NaN, Infinity, -Infinity
  const c = text.charCodeAt(0);
  if (c > ZERO && c <= NINE) return v; // 1-9: decimal, as Number accepted it
  if (c === ZERO) {
    // 0x1f, 0o17, 0b11 are the only non-decimals Number reads that start with a digit.
    const next = text.charCodeAt(1) | 0x20;
    return next === 0x78 || next === 0x6f || next === 0x62 ? NaN : v;
  }
  if (c === 0x2d || c === 0x2b || c === 0x2e) return v; // - + . (signed literals are NaN in Number)
  return PLAIN_DECIMAL.test(text) ? v : NaN; // '', blanks, leading blanks
}

/** The cell as it goes into a message: short, and quoted by the caller. */
export function showCell(text: string): string {
  return text.length <= 24 ? text : `${text.slice(0, 21)}...`;
}
