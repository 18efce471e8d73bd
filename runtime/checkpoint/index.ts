export { CheckpointError, FileWriteError, describeIoError } from "./error.js";
export { decodeSafetensors, encodeSafetensors, type TensorEntry } from "./safetensors.js";
export { processAlive, removeStaleTemps, writeFileAtomic, type AtomicFs } from "./atomic.js";
export { checkCompatible, checkFinite, decodeCheckpoint, tensorDigest, verifyDigests, withDigests, TENSOR_SHA256, type Checkpoint, type ExpectedTensor } from "./checkpoint.js";
export { loadCheckpoint, saveCheckpoint } from "./file.js";
