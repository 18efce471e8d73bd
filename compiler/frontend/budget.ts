// The memory budget of the compile-time interpreter.
//
// A model's compile-time values name layers and build shapes; they are small.
// A hostile or mistaken model can ask for more than the compiler has
// ('x'.repeat(2 ** 30), Array.from({ length: 2 ** 31 }), a string doubled in a
// loop), and JavaScript would answer with a RangeError or by exhausting the
// heap, which kills the process. So every builtin that makes a string, an
// array or an object asks the budget first, with the size it is about to
// create: one value may hold at most MEMORY.size characters, elements or
// properties, and one compilation may create at most MEMORY.total of them in
// all (which also bounds the time spent copying). A refusal is a BuiltinError,
// located by the evaluator at the call.

import { BuiltinError } from "./diagnostics.js";

export const MEMORY = {
  /** Characters of one string, elements of one array or properties of one object. */
  size: 1_000_000,
  /** Characters, elements and properties created in one compilation. */
  total: 20_000_000,
};

const HINT = "compile-time values name layers and build shapes; data belongs in tensors, fed at run time";

/** Refuses one value of `n` characters, elements or properties, whatever the compilation has used. */
export function checkSize(n: number, what: string, kind: Kind): void {
  if (!(n <= MEMORY.size)) {
    const size = Number.isFinite(n) ? String(n) : "unbounded";
    throw new BuiltinError("DLC3007", `${what} would make ${KINDS[kind][0]} of ${size} ${KINDS[kind][1]}; dlc allows at most ${MEMORY.size} at compile time`, HINT);
  }
}

type Kind = "string" | "array" | "object";
const KINDS: Record<Kind, [string, string]> = { string: ["a string", "characters"], array: ["an array", "elements"], object: ["an object", "properties"] };

/** What one compilation has created so far. */
export class Budget {
  private used = 0;

  /** Refuses a string of `length` characters before it is made. */
  string(length: number, what: string): void {
    this.take(length, length, what, "string");
  }

  /** Refuses an array of `length` elements before it is made, or grown to that length by `added` elements. */
  array(length: number, what: string, added = length): void {
    this.take(length, added, what, "array");
  }

  /** Refuses an object of `size` properties, made or grown by `added`. */
  object(size: number, what: string, added = size): void {
    this.take(size, added, what, "object");
  }

  private take(length: number, added: number, what: string, kind: Kind): void {
    checkSize(length, what, kind);
    this.used += added;
    if (this.used > MEMORY.total) {
      throw new BuiltinError("DLC3007", `${what} takes the compile-time strings and arrays past ${MEMORY.total} characters, elements and properties in all`, `${HINT}; a loop that copies a growing array or string pays its length every time`);
    }
  }
}
