// Pointwise expressions in WGSL: a node's value at a flat index, written as
// `let` statements over buffer loads, with index maps applied at broadcasts,
// transposes, slices and pads (a pad selects between its fill and a read of
// its input at the shifted index, clamped to 0 outside so that no read strays). Every kernel template uses one Emitter for its fused
// elementwise work (prologues, epilogues, the bodies of pointwise and row
// kernels). Each elementwise op's WGSL spelling is its entry in the op table
// (runtime/program/elementwise.ts); the helper functions those spellings call
// are collected as they are used and declared once per kernel.

import { ELEMENTWISE, isElementwise, WGSL_HELPERS } from "../../../runtime/program/elementwise.js";
import { inputAt } from "../../ir/checked.js";
import type { Node, NodeOf } from "../../ir/node.js";
import { broadcastIndex, coord, dimExpr, padIndex, sliceIndex, transposeIndex } from "./index-math.js";

export const wgslType = (n: { dtype: "f32" | "i32" }) => (n.dtype === "i32" ? "i32" : "f32");

/** A number as a WGSL literal of the node's type. WGSL may assume no Inf or NaN, so Inf saturates. */
export function literal(v: number, dtype: "f32" | "i32"): string {
  if (dtype === "i32") return `${Math.trunc(v)}i`;
  if (Number.isNaN(v)) return "bitcast<f32>(0x7fc00000u)";
  const x = Math.max(-3.4028234663852886e38, Math.min(3.4028234663852886e38, v));
  const s = String(Math.fround(x) === x ? x : x);
  const text = /[.eE]/.test(s) ? s : `${s}.0`;
  return x < 0 ? `(${text})` : text;
}

export interface EmitContext {
  /** The buffer a materialized node is read from, or undefined when this kernel computes it. */
  buffer(n: Node): string | undefined;
  /** A kernel's own reading of a broadcast's index map (a row kernel maps its full index to its row index). */
  mapBroadcast?(n: NodeOf<"broadcast">, idx: string): string | undefined;
}

export class Emitter {
  private readonly memo: Map<string, string>[] = [new Map()];
  private counter = 0;
  private readonly lines: string[] = [];
  private readonly helpers = new Set<keyof typeof WGSL_HELPERS>();
  private depth: number;

  constructor(
    private readonly ctx: EmitContext,
    indent = 1,
  ) {
    this.depth = indent;
  }

  line(text: string): void {
    this.lines.push(`${"  ".repeat(this.depth)}${text}`);
  }

  /** A fresh variable name. */
  fresh(prefix = "v"): string {
    return `${prefix}${this.counter++}`;
  }

  /** Emits `header {`, the body in a scope of its own (values computed inside stay inside), then `}`. */
  block(header: string, body: () => void): void {
    this.line(`${header} {`);
    this.depth++;
    this.memo.push(new Map());
    body();
    this.memo.pop();
    this.depth--;
    this.line("}");
  }

  code(): string {
    return this.lines.join("\n");
  }

  /** The WGSL helper functions the emitted code calls, to declare before the entry point. */
  helperFunctions(): string[] {
    return [...this.helpers].map((h) => WGSL_HELPERS[h]);
  }

  /** The innermost scope's values (there is always one). */
  private scope(): Map<string, string> {
    return this.memo[this.memo.length - 1];
  }

  private lookup(key: string): string | undefined {
    for (let i = this.memo.length - 1; i >= 0; i--) {
      const v = this.memo[i].get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Declares that n's value at `idx` is held in `v` for the rest of the current scope (accumulators, reductions, outputs). */
  bind(n: Node, idx: string, v: string): void {
    this.scope().set(`${n.id}@${idx}`, v);
  }

  /**
   * The WGSL name of n's value at flat index `idx` (a u32 expression), emitting what it takes to compute it.
   *
   * Expressions can be thousands of operations deep (a loop that adds a term
   * per iteration), so this walks them with an explicit stack instead of
   * recursing: computing a value that needs an operand not yet emitted stops
   * (Pending), emits that operand first, and then computes the value again.
   * The lines come out in the order a recursive walk would write them.
   */
  value(n: Node, idx: string): string {
    // Results that are not bound to a variable (names, literals) are not in the scopes; within one call they cannot change.
    const results = new Map<string, string>();
    const known = (m: Node, at: string): string | undefined => this.lookup(`${m.id}@${at}`) ?? results.get(`${m.id}@${at}`);
    const stack: { n: Node; idx: string }[] = [{ n, idx }];
    for (let top = stack.at(-1); top !== undefined; top = stack.at(-1)) {
      const key = `${top.n.id}@${top.idx}`;
      let expr = known(top.n, top.idx);
      if (expr === undefined) {
        const operand = (m: Node, at: string): string => {
          const v = known(m, at);
          if (v === undefined) throw new Pending(m, at);
          return v;
        };
        try {
          expr = this.compute(top.n, top.idx, operand);
        } catch (e) {
          if (!(e instanceof Pending)) throw e;
          stack.push({ n: e.node, idx: e.idx });
          continue;
        }
        if (!(/^[A-Za-z_][A-Za-z0-9_]*$/.test(expr) || /^\(?-?[\d.]+(e[+-]?\d+)?i?\)?$/.test(expr))) {
          const name = this.fresh();
          this.line(`let ${name}: ${wgslType(top.n)} = ${expr};`);
          this.scope().set(key, name);
          expr = name;
        }
        results.set(key, expr);
      }
      stack.pop();
      if (stack.length === 0) return expr;
    }
    throw new Error("internal: the expression walk ended without a value");
  }

  /**
   * A computed index (or condition) held in a `let` of its own, so that reads through it stay
   * short. Memoized by its text: a computation retried by \`value\` reuses the same variable.
   */
  private held(prefix: string, type: string, expr: string): string {
    const key = `${prefix}:${expr}`;
    const known = this.lookup(key);
    if (known !== undefined) return known;
    const name = this.fresh(prefix);
    this.line(`let ${name}: ${type} = ${expr};`);
    this.scope().set(key, name);
    return name;
  }

  /** n's value at `idx` as an expression over its operands' values, which `operand` gives (or throws Pending for). */
  private compute(n: Node, idx: string, operand: (m: Node, idx: string) => string): string {
    const buffer = this.ctx.buffer(n);
    if (buffer !== undefined) return `${buffer}[${idx}]`;
    const t = wgslType(n);
    if (isElementwise(n.op)) {
      const def = ELEMENTWISE[n.op];
      // Helpers in dependency order, each once (a Set keeps insertion order).
      for (const h of def.wgslHelpers ?? []) this.helpers.add(h);
      const x = (i: number) => operand(inputAt(n, i), idx);
      const constant = (i: number) => {
        const x = inputAt(n, i);
        return x.op === "const" && typeof x.attrs.value === "number" ? x.attrs.value : undefined;
      };
      return def.wgsl(x, t, { constant });
    }
    switch (n.op) {
      case "const":
        return typeof n.attrs.value === "number" ? literal(n.attrs.value, n.dtype) : `${t}(${dimExpr(n.attrs.value)})`;
      case "iota":
        return `i32(${coord(idx, n.shape, n.attrs.axis)})`;
      case "random": {
        // The key's two words are read from its buffer (the partition gives it one), the counter is the index.
        this.helpers.add("philox");
        const key = inputAt(n, 0);
        return `dlc_random(${idx}, ${n.attrs.salt}u, ${operand(key, "0u")}, ${operand(key, "1u")})`;
      }
      case "reshape":
        return operand(inputAt(n, 0), idx);
      case "broadcast": {
        const x = inputAt(n, 0);
        const mapped = this.ctx.mapBroadcast?.(n, idx) ?? (x.shape.length === 0 ? "0u" : broadcastIndex(idx, n.shape, x.shape, n.attrs.dims));
        return operand(x, mapped);
      }
      case "transpose":
        return operand(inputAt(n, 0), transposeIndex(idx, n.shape, inputAt(n, 0).shape, n.attrs.perm));
      case "slice":
        return operand(inputAt(n, 0), this.held("i", "u32", sliceIndex(idx, n.shape, inputAt(n, 0).shape, n.attrs.begin)));
      case "pad": {
        const x = inputAt(n, 0);
        const { inside, at } = padIndex(idx, n.shape, x.shape, n.attrs.before, n.attrs.after);
        const ok = this.held("in", "bool", inside);
        const v = operand(x, this.held("i", "u32", `select(0u, ${at}, ${ok})`));
        return `select(${literal(n.attrs.value, n.dtype)}, ${v}, ${ok})`;
      }
    }
    throw new Error(`internal: ${n.op} is not computed by this kernel and has no buffer`);
  }
}

/** Thrown by a computation that needs the value of `node` at `idx` first (Emitter.value). */
class Pending {
  constructor(
    readonly node: Node,
    readonly idx: string,
  ) {}
}
