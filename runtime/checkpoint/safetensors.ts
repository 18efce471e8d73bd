// The safetensors format (https://github.com/huggingface/safetensors), the
// checkpoint format of dlc, so that weights move to and from other frameworks.
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   a UTF-8 JSON object, padded with trailing spaces:
//               { "__metadata__": { string: string },        (optional)
//                 name: { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
//   the rest  the data buffer; offsets are relative to its start, values are
//             little-endian and row-major, tensors are contiguous, without gaps or
//             overlaps, and cover the buffer exactly.
//
// The writer lays tensors out in name order (UTF-8 byte order, which is also the
// reference writer's order for 4-byte dtypes), so a file depends only on its
// contents, never on the order a Map was filled in. It pads the header so the data
// buffer starts 8-byte aligned and writes `__metadata__` only when it is non-empty.
//
// The reader trusts nothing: every length, offset and dtype is checked before a
// byte of data is read, and each problem is a CheckpointError of one line that
// names the file. It knows every safetensors dtype (to check byte counts) but
// returns only F32 and I32, the dtypes of dlc programs.

import { CheckpointError } from "./error.js";

export interface TensorEntry {
  readonly dtype: "F32" | "I32";
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** Bytes per element of every dtype the safetensors format defines. */
const ITEM_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** The reference implementation refuses headers above 100 MB; so do we, before parsing. */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorEntry>,
  metadata: Readonly<Record<string, string>>,
): Uint8Array {
  const encoder = new TextEncoder();
  const names = [...tensors.keys()]
    .map((name) => ({ name, utf8: encoder.encode(name) }))
    .sort((a, b) => compareBytes(a.utf8, b.utf8))
    .map(({ name }) => name);

  const fields: string[] = [];
  const metaEntries = Object.entries(metadata);
  if (metaEntries.length > 0) {
    for (const [key, value] of metaEntries) {
      if (typeof value !== "string") {
        throw new CheckpointError(`cannot encode metadata ${JSON.stringify(key)}: its value is a ${typeof value}, not a string`);
      }
    }
    fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(Object.fromEntries(metaEntries))}`);
  }
  let offset = 0;
  for (const name of names) {
    const entry = tensors.get(name)!;
    checkEntry(name, entry);
    const end = offset + entry.data.byteLength;
    const info = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, end] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset = end;
  }

  const json = encoder.encode(`{${fields.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    if (!LITTLE_ENDIAN_HOST) swap32(bytes.subarray(at, at + data.byteLength));
    at += data.byteLength;
  }
  return bytes;
}

function checkEntry(name: string, entry: TensorEntry): void {
  function fail(problem: string): never {
    throw new CheckpointError(`cannot encode tensor ${JSON.stringify(name)}: ${problem}`);
  }
  if (name === METADATA_KEY) fail(`the name ${METADATA_KEY} is reserved for the metadata`);
  const { dtype, shape, data } = entry;
  if (dtype !== "F32" && dtype !== "I32") fail(`unsupported dtype ${String(dtype)}`);
  if (!(data instanceof (dtype === "F32" ? Float32Array : Int32Array))) {
    fail(`dtype ${dtype} but the data is a ${data.constructor.name}`);
  }
  if (!isCountList(shape)) fail(`shape ${formatShape(shape)} is not a list of non-negative integers`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) fail(`shape ${formatShape(shape)} has ${count} elements but the data has ${data.length}`);
}

interface HeaderEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export function decodeSafetensors(
  bytes: Uint8Array,
  source: string,
): { tensors: Map<string, TensorEntry>; metadata: Record<string, string> } {
  function fail(problem: string): never {
    throw new CheckpointError(`${source}: ${problem}`);
  }

  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(`header length ${declared} runs past the end of the file (${bytes.length - 8} bytes after the length)`);
  }
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);

  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${oneLine(e instanceof Error ? e.message : String(e))})`);
  }
  if (!isObject(header)) fail("header is not a JSON object");

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isObject(value)) fail(`${METADATA_KEY} is not an object`);
      for (const [key, v] of Object.entries(value)) {
        if (typeof v !== "string") fail(`${METADATA_KEY} value of ${JSON.stringify(key)} is not a string`);
        // defineProperty, not assignment: a key "__proto__" is data here, not the prototype.
        Object.defineProperty(metadata, key, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(parseEntry(name, value, fail));
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  for (const e of entries) {
    if (e.end > dataLength) {
      fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] run past the ${dataLength}-byte data buffer`);
    }
  }
  // Contiguity: sorted by offsets, each tensor must start where the previous one ended.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const e of byOffset) {
    if (e.begin < covered) {
      fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}]`);
    }
    if (e.begin > covered) fail(`gap: data bytes [${covered}, ${e.begin}) belong to no tensor`);
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) fail(`gap: data bytes [${covered}, ${dataLength}) belong to no tensor`);

  const tensors = new Map<string, TensorEntry>();
  for (const e of byOffset) {
    if (e.dtype !== "F32" && e.dtype !== "I32") {
      fail(`tensor ${JSON.stringify(e.name)}: dtype ${e.dtype} is not supported (dlc reads F32 and I32)`);
    }
    const raw = new Uint8Array(e.end - e.begin); // a copy that owns its buffer (Buffer#slice would be a view)
    raw.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    if (!LITTLE_ENDIAN_HOST) swap32(raw);
    const data = e.dtype === "F32" ? new Float32Array(raw.buffer) : new Int32Array(raw.buffer);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseEntry(name: string, value: unknown, fail: (problem: string) => never): HeaderEntry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isObject(value)) fail(`${where}: entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== "string") fail(`${where}: dtype is missing or not a string`);
  const itemSize = Object.hasOwn(ITEM_SIZE, dtype) ? ITEM_SIZE[dtype] : undefined;
  if (itemSize === undefined) fail(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!isCountList(shape)) fail(`${where}: shape is not a list of non-negative integers`);
  if (!isCountList(offsets) || offsets.length !== 2) fail(`${where}: data_offsets is not a pair of non-negative integers`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const size = shape.reduce((a, b) => a * b, itemSize);
  if (!Number.isSafeInteger(size)) fail(`${where}: shape ${formatShape(shape)} is too large`);
  if (size !== end - begin) {
    fail(`${where}: shape ${formatShape(shape)} of ${dtype} needs ${size} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape, begin, end };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCountList(v: unknown): v is readonly number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ");
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function swap32(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const b0 = bytes[i]!, b1 = bytes[i + 1]!;
    bytes[i] = bytes[i + 3]!;
    bytes[i + 1] = bytes[i + 2]!;
    bytes[i + 2] = b1;
    bytes[i + 3] = b0;
  }
}
