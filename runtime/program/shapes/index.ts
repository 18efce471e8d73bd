// Every primitive's type rule, in one table whose type demands them all.

import type { Op, OpAttrs } from "../ops.js";
import { CONTRACTION_TYPES } from "./contraction.js";
import { ELEMENTWISE_TYPES } from "./elementwise.js";
import { MOVEMENT_TYPES } from "./movement.js";
import { POOL_TYPES } from "./pool.js";
import { REDUCE_TYPES } from "./reduce.js";
import type { TensorType, TypeRules } from "./rule.js";
import { SOURCE_TYPES } from "./source.js";
import { GATHER_TYPES } from "./gather.js";
import { SCAN_TYPES } from "./scan.js";
import { SLICING_TYPES } from "./slicing.js";

export { ShapeError, type TensorType, type TypeRule } from "./rule.js";
export { dilatedSize, windowCount } from "./window.js";

export const TYPE_RULES: TypeRules<Op> = { ...SOURCE_TYPES, ...ELEMENTWISE_TYPES, ...REDUCE_TYPES, ...MOVEMENT_TYPES, ...CONTRACTION_TYPES, ...POOL_TYPES, ...GATHER_TYPES, ...SCAN_TYPES, ...SLICING_TYPES };

/** The output type of `op` applied to inputs of these types, or a ShapeError (or an Error for a wrong input count). */
export function inferType<O extends Op>(op: O, inputs: readonly TensorType[], attrs: OpAttrs[O]): TensorType {
  const rule = TYPE_RULES[op];
  if (inputs.length !== rule.arity) throw new Error(`${op} takes ${rule.arity} inputs, got ${inputs.length}`);
  return rule.infer(inputs, attrs);
}
