// The Chrome trace of a profile: steps enclose their kernel calls, times are
// microseconds from the first profiled step, and a device clock that runs a
// little past the host's still nests (the step grows to cover its kernels).

import test from "ava";
import type { Profile } from "../../../runtime/profile/profile.js";
import { chromeTrace } from "../../../runtime/profile/trace.js";
import { checkChromeTrace } from "../../helpers/profile.js";

const kernel = (name: string) => ({ name, ops: [name.split(" ")[0]!], nodes: [], bytes: 64, flops: 100 });
const profile: Profile = {
  backend: "webgpu",
  device: "test",
  method: "timestamp-query",
  batch: 8,
  warmup: 2,
  flops: 200,
  kernels: [kernel("matmul 8x4x2"), kernel("fused[relu] 8x2")],
  steps: [
    { start: 1000, ms: 2 },
    { start: 1003, ms: 1 },
  ],
  calls: [
    { kernel: 0, step: 0, start: 1000.5, ms: 0.5 },
    { kernel: 1, step: 0, start: 1001, ms: 0.25 },
    { kernel: 0, step: 1, start: 1003.25, ms: 0.5 },
    // Ends 0.25 ms after the host saw the step end.
    { kernel: 1, step: 1, start: 1003.75, ms: 0.5 },
  ],
};

test("one step event per profiled step enclosing one kernel event per call, in microseconds from the first step", (t) => {
  const { steps, kernels } = checkChromeTrace(t, JSON.stringify(chromeTrace(profile, "dlc profile test")));
  t.deepEqual(
    steps.map((s) => [s.name, s.ts, s.dur, s.args!.step]),
    [
      ["step 1", 0, 2000, 3],
      ["step 2", 3000, 1250, 4],
    ],
  );
  t.deepEqual(
    kernels.map((k) => [k.name, k.ts, k.dur]),
    [
      ["matmul 8x4x2", 500, 500],
      ["fused[relu] 8x2", 1000, 250],
      ["matmul 8x4x2", 3250, 500],
      ["fused[relu] 8x2", 3750, 500],
    ],
  );
  t.deepEqual(kernels[0]!.args, { ops: "matmul", flops: 100, bytes: 64 });
});
