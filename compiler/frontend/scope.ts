// Lexical scopes of the partial evaluator.

import type { Value } from "./values.js";

export interface Binding {
  value: Value;
  readonly mutable: boolean;
  /** False between entering a scope and reaching the declaration (the temporal dead zone). */
  initialized: boolean;
}

export class Scope {
  private readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}

  declare(name: string, value: Value, mutable: boolean, initialized = true): Binding {
    const b: Binding = { value, mutable, initialized };
    this.vars.set(name, b);
    return b;
  }

  /** Makes an existing binding (an import, a module's export) visible here under `name`. */
  alias(name: string, binding: Binding): void {
    this.vars.set(name, binding);
  }

  lookup(name: string): Binding | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
    }
    return undefined;
  }

  ownBinding(name: string): Binding | undefined {
    return this.vars.get(name);
  }

  names(): string[] {
    const out = new Set<string>();
    for (let s: Scope | undefined = this; s; s = s.parent) for (const k of s.vars.keys()) out.add(k);
    return [...out];
  }
}
