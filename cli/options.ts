// Parsing of option values: each parser turns a string into a checked value
// or a UsageError naming the flag (exit code 2).

import { InvalidArgumentError } from "commander";

export function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got '${v}'`);
    return n;
  };
}

export function nonNegativeInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got '${v}'`);
    return n;
  };
}

export function positiveNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number, got '${v}'`);
    return n;
  };
}

export function fraction(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !(n > 0 && n < 1)) throw new InvalidArgumentError(`${flag} must be a number between 0 and 1, got '${v}'`);
    return n;
  };
}
