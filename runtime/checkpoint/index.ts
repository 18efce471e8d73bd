export { CheckpointError } from "./error.js";
export { decodeSafetensors, encodeSafetensors, type TensorEntry } from "./safetensors.js";
export { writeFileAtomic, type AtomicFs } from "./atomic.js";
export { checkCompatible, loadCheckpoint, saveCheckpoint, type Checkpoint, type ExpectedTensor } from "./checkpoint.js";
