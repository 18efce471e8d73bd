// Model code is compiled by `dlc compile`, never executed: importing "dlc" at
// run time is a mistake, and says so.
throw new Error('dlc: model files are compiled with `dlc compile model.ts`, not run; to use a compiled model from code, import "dlc/runtime"');
