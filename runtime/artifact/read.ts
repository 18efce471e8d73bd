// Reading an artifact's bytes: the header, the payload's size and digest, then
// its structure, each failure a one-line ArtifactError that says what is wrong.
// Bytes only, so that a browser reads artifacts too; file.ts reads files.

import { sha256Hex } from "../sha256.js";
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, ArtifactError, decodeNumbers, type ArtifactHeader, type ArtifactPayload } from "./format.js";
import { validatePayload } from "./validate.js";

// ignoreBOM keeps a byte-order mark in the text, as Buffer.toString did: a header that begins with one is not JSON.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

export function parseArtifact(bytes: Uint8Array, source: string): ArtifactPayload {
  const fail = (what: string) => new ArtifactError(`${source}: ${what}`);
  const newline = bytes.indexOf(10);
  if (newline < 0) throw fail("not a dlc artifact (no header line)");
  let header: ArtifactHeader;
  try {
    header = JSON.parse(utf8.decode(bytes.subarray(0, newline))) as ArtifactHeader;
  } catch {
    throw fail("not a dlc artifact (the header is not JSON)");
  }
  if (header === null || typeof header !== "object" || header.format !== ARTIFACT_FORMAT) throw fail("not a dlc artifact");
  // A field of the wrong type is a damaged or hand-made header, not a file from another dlc.
  const wrongType = (field: string, expected: string) => fail(`the header field "${field}" is ${typeName(header[field as keyof ArtifactHeader])}; expected ${expected}`);
  if (typeof header.version !== "number" || !Number.isInteger(header.version)) throw wrongType("version", "an integer");
  if (!Number.isSafeInteger(header.payload_bytes) || header.payload_bytes < 0) throw wrongType("payload_bytes", "a byte count");
  if (typeof header.sha256 !== "string") throw wrongType("sha256", "a string");
  if (header.version > ARTIFACT_VERSION) {
    throw fail(`written by a newer dlc (format version ${header.version}, ${header.compiler ?? "unknown compiler"}); this runtime reads version ${ARTIFACT_VERSION}: recompile the model or upgrade dlc`);
  }
  if (header.version < 1) throw fail(`unknown format version ${header.version}`);
  const body = bytes.subarray(newline + 1, newline + 1 + header.payload_bytes);
  if (body.length < header.payload_bytes) throw fail(`truncated: the payload has ${body.length} of ${header.payload_bytes} bytes`);
  const digest = sha256Hex(body);
  if (digest !== header.sha256) throw fail("corrupted or edited: the payload does not match its sha256 digest");
  let payload: unknown;
  try {
    payload = JSON.parse(utf8.decode(body), decodeNumbers);
  } catch (e) {
    throw fail(`the payload is not JSON (${(e as Error).message})`);
  }
  try {
    return validatePayload(payload);
  } catch (e) {
    throw fail(`invalid payload: ${(e as Error).message}`);
  }
}

function typeName(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") return `the number ${v}`;
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
