// The data pipeline of the runtime: CSV files into typed arrays bound to a
// model's inputs (load), feature normalization, splits and batches, and the
// Fashion-MNIST idx converter.

export { DataError, type Dataset, type InputData, type InputSpec } from "./types.js";
export { loadDataset } from "./load.js";
export type { ColumnOptions } from "./columns.js";
export { applyNormalization, fitNormalization, normalizedInput, type Normalization, type NormStats } from "./normalize.js";
export { batches, epochOrder, splitRows, type Batch } from "./batches.js";
export { idxToCsv } from "./idx.js";
