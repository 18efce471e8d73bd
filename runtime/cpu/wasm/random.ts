// placeholder until the pool helper lands
import type { FunctionBuilder, Local } from "../../wasm/assembler.js";
export function emitRandom4(f: FunctionBuilder, index: Local, salt: number, keyAt: number): void {
  void f; void index; void salt; void keyAt;
  throw new Error("random lanes not yet");
}
