// Model code is compiled by `dlc compile`, never executed: importing "dlc" at
// run time is a mistake, and says so.
throw new Error('dlc: model files are compiled, not run: `dlc compile model.ts`, or from code `import { compile } from "dlc/compiler"` (and "dlc/runtime" for a compiled artifact)');
