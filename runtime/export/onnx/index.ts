// ONNX export (`import { exportOnnx } from "dlc/export"`): an entry point of a
// compiled model, with its weights, as a standard ONNX model. A module of its
// own, so that the runtime's load path never loads protobufjs.

export { exportOnnx, OnnxExportError, OPSET, IR_VERSION, type OnnxExportOptions } from "./export.js";
export { decodeModel } from "./schema.js";
