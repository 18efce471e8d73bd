// The portable SHA-256 (what a browser runs on artifacts and checkpoints) against Node's.

import test from "ava";
import { createHash } from "node:crypto";
import { portableSha256Hex, sha256Hex } from "../../runtime/sha256.js";

test("the portable SHA-256 is Node's, across the padding boundaries and beyond one block", (t) => {
  // 55 and 56 bytes straddle the length field's room in the last block; 64 fills one exactly.
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65537]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 17) & 255);
    const want = createHash("sha256").update(bytes).digest("hex");
    t.is(portableSha256Hex(bytes), want, `${n} bytes`);
    t.is(sha256Hex(bytes), want, `${n} bytes`);
  }
  t.is(portableSha256Hex(new TextEncoder().encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});
