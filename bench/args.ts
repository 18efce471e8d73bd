// Command-line flags of the benchmark scripts, and what their cases share.

const argv = process.argv.slice(2);

export const flag = (name: string): boolean => argv.includes(name);

export const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

/** The four matmul layouts: (transA, transB). */
export const LAYOUTS = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;
