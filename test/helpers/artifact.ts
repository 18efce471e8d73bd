// Editing an artifact as an attacker would: change the payload, recompute the
// digest, and check that the reader refuses it in one line.

import type { ExecutionContext } from "ava";
import { createHash } from "node:crypto";
import { ArtifactError, decodeNumbers, encodeNumbers } from "../../runtime/artifact/format.js";
import { parseArtifact } from "../../runtime/artifact/read.js";

/** The artifact whose payload line is `edit`ed (parsed, then written back) under a header with a correct digest. */
export function reDigested(headerLine: string, payloadLine: string, edit: (payload: any) => void): Uint8Array {
  const p = JSON.parse(payloadLine, decodeNumbers);
  edit(p);
  const body = JSON.stringify(p, encodeNumbers);
  const header = { ...JSON.parse(headerLine), payload_bytes: Buffer.byteLength(body), sha256: createHash("sha256").update(body).digest("hex") };
  return Buffer.from(JSON.stringify(header) + "\n" + body + "\n");
}

/** The reader refuses `bytes` with one line matching `message`. */
export function refusedArtifact(t: ExecutionContext, bytes: Uint8Array, message: RegExp): void {
  const e = t.throws(() => parseArtifact(bytes, "m.dlc"), { instanceOf: ArtifactError });
  t.regex(e.message, message);
  t.is(e.message.split("\n").length, 1, "one line");
}
