// Every primitive's definition, in one table whose type demands them all.

import type { Op } from "../ir/node.js";
import { CONTRACTIONS } from "./contraction.js";
import { ELEMENTWISE_DEFS } from "./elementwise.js";
import { MOVEMENT } from "./movement.js";
import { POOLING } from "./pool.js";
import { REDUCTIONS } from "./reduce.js";
import { SOURCES } from "./source.js";
import { SLICING } from "./slicing.js";
import type { OpTable } from "./types.js";
import { GATHERS } from "./gather.js";
import { SCANS } from "./scan.js";

export const OP_DEFS: OpTable<Op> = { ...SOURCES, ...ELEMENTWISE_DEFS, ...REDUCTIONS, ...MOVEMENT, ...CONTRACTIONS, ...POOLING, ...GATHERS, ...SCANS, ...SLICING };
