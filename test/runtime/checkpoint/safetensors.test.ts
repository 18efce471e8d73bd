import test from "ava";
import { CheckpointError } from "../../../runtime/checkpoint/error.js";
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from "../../../runtime/checkpoint/safetensors.js";

const f32 = (shape: number[], values: number[]): TensorEntry => ({ dtype: "F32", shape, data: Float32Array.from(values) });
const i32 = (shape: number[], values: number[]): TensorEntry => ({ dtype: "I32", shape, data: Int32Array.from(values) });

/** A file from a header written by hand (padded with `pad` spaces) and raw data bytes. */
function craft(header: string, data: number[] = [], pad = 0): Uint8Array {
  const json = new TextEncoder().encode(header + " ".repeat(pad));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

function bits(data: Float32Array | Int32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

function decodeError(bytes: Uint8Array): string {
  try {
    decodeSafetensors(bytes, "m.safetensors");
  } catch (e) {
    if (e instanceof CheckpointError) return e.message;
    throw e;
  }
  throw new Error("decoding succeeded");
}

// ---- writing and reading back

test("a round trip preserves every float32 bit pattern, including -0, subnormals and infinities", (t) => {
  const special = [0, -0, 1.5, -2.25, 1e-45, -1e-45, 1.1754942e-38, 3.4028235e38, Infinity, -Infinity, Math.PI];
  const tensors = new Map([["w", f32([special.length], special)]]);
  const back = decodeSafetensors(encodeSafetensors(tensors, {}), "rt").tensors.get("w")!;
  t.deepEqual(bits(back.data), bits(tensors.get("w")!.data));
  t.is(Object.is(back.data[1], -0), true);
});

test("a round trip preserves int32 extremes, shapes, dtypes and metadata", (t) => {
  const tensors = new Map<string, TensorEntry>([
    ["step", i32([], [7])],
    ["labels", i32([2, 2], [-2147483648, 2147483647, -1, 0])],
    ["empty", f32([0, 3], [])],
    ["conv.k", f32([1, 1, 2, 1], [0.5, -0.5])],
  ]);
  const metadata = { format: "dlc", epoch: "3", note: "héllo\nworld" };
  const back = decodeSafetensors(encodeSafetensors(tensors, metadata), "rt");
  t.deepEqual(back.metadata, metadata);
  t.deepEqual([...back.tensors.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, entry] of tensors) {
    const got = back.tensors.get(name)!;
    t.is(got.dtype, entry.dtype, name);
    t.deepEqual(got.shape, entry.shape, name);
    t.is(got.data.constructor, entry.data.constructor, name);
    t.deepEqual(bits(got.data), bits(entry.data), name);
  }
});

test("a tiny file is byte-for-byte the hand-computed layout", (t) => {
  const bytes = encodeSafetensors(new Map([["b", i32([2], [1, -2])], ["a", f32([1], [1.5])]]), { k: "v" });
  const header =
    '{"__metadata__":{"k":"v"},' +
    '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
    '"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}'; // 133 bytes, padded to 136
  const expected = [
    0x88, 0, 0, 0, 0, 0, 0, 0, // header length 136, u64 little-endian
    ...Array.from(header, (c) => c.charCodeAt(0)), 0x20, 0x20, 0x20,
    0x00, 0x00, 0xc0, 0x3f, // a = 1.5f (0x3fc00000)
    0x01, 0x00, 0x00, 0x00, // b[0] = 1
    0xfe, 0xff, 0xff, 0xff, // b[1] = -2
  ];
  t.deepEqual(Array.from(bytes), expected);
});

test("a metadata key named __proto__ is kept as data", (t) => {
  const metadata = Object.fromEntries([["__proto__", "x"]]);
  const back = decodeSafetensors(encodeSafetensors(new Map(), metadata), "rt").metadata;
  t.deepEqual(Object.entries(back), [["__proto__", "x"]]);
});

test("the data buffer starts 8-byte aligned", (t) => {
  for (const name of ["x", "xy", "xyz", "a-longer-name"]) {
    const bytes = encodeSafetensors(new Map([[name, f32([1], [1])]]), {});
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    t.is((8 + headerLength) % 8, 0, name);
  }
});

test("the file does not depend on the order the map was filled in", (t) => {
  const a = encodeSafetensors(new Map([["z", f32([1], [1])], ["a", f32([1], [2])], ["m", i32([1], [3])]]), {});
  const b = encodeSafetensors(new Map([["m", i32([1], [3])], ["z", f32([1], [1])], ["a", f32([1], [2])]]), {});
  t.deepEqual(a, b);
});

test("empty metadata writes no __metadata__ entry", (t) => {
  const text = new TextDecoder().decode(encodeSafetensors(new Map([["w", f32([1], [0])]]), {}));
  t.false(text.includes("__metadata__"));
});

test("decoded tensors own their data and do not alias the file bytes", (t) => {
  const bytes = encodeSafetensors(new Map([["w", f32([2], [1, 2])]]), {});
  const w = decodeSafetensors(bytes, "m").tensors.get("w")!;
  bytes.fill(0);
  t.deepEqual(Array.from(w.data), [1, 2]);
});

test("the reader accepts bytes at an unaligned offset inside a larger buffer", (t) => {
  const file = encodeSafetensors(new Map([["w", f32([3], [1, 2, 3])]]), {});
  const big = new Uint8Array(file.length + 5);
  big.set(file, 3);
  const w = decodeSafetensors(big.subarray(3, 3 + file.length), "m").tensors.get("w")!;
  t.deepEqual(Array.from(w.data), [1, 2, 3]);
});

test("the reader accepts a Node Buffer", (t) => {
  const file = Buffer.from(encodeSafetensors(new Map([["w", i32([2], [5, 6])]]), {}));
  t.deepEqual(Array.from(decodeSafetensors(file, "m").tensors.get("w")!.data), [5, 6]);
});

test("the reader accepts the reference implementation's layout: spaces, padding, metadata, any key order", (t) => {
  // Keys in neither name nor offset order, pretty-printed, padded to a multiple of 8.
  const header =
    '{"weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}, ' +
    '"__metadata__": {"format": "pt"}, ' +
    '"bias": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}';
  const data = [
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, // bias = [1, 2]
    0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, // weight = [3, 4, 5, 6]
    0x00, 0x00, 0xa0, 0x40, 0x00, 0x00, 0xc0, 0x40,
  ];
  const pad = (8 - (header.length % 8)) % 8;
  const { tensors, metadata } = decodeSafetensors(craft(header, data, pad), "ref.safetensors");
  t.deepEqual(metadata, { format: "pt" });
  t.deepEqual(Array.from(tensors.get("bias")!.data), [1, 2]);
  t.deepEqual(Array.from(tensors.get("weight")!.data), [3, 4, 5, 6]);
  t.deepEqual(tensors.get("weight")!.shape, [2, 2]);
});

test("decoded tensors come in the order of their data in the file", (t) => {
  const header =
    '{"b": {"dtype": "I32", "shape": [1], "data_offsets": [4, 8]}, "a": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}';
  const { tensors } = decodeSafetensors(craft(header, [1, 0, 0, 0, 2, 0, 0, 0]), "m");
  t.deepEqual([...tensors.keys()], ["a", "b"]);
});

test("zero-size tensors may share an offset", (t) => {
  const header =
    '{"e1": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "e2": {"dtype": "I32", "shape": [2, 0], "data_offsets": [0, 0]}}';
  t.is(decodeSafetensors(craft(header), "m").tensors.size, 2);
});

// ---- writer refusals

test("the writer refuses data whose length does not match the shape", (t) => {
  t.throws(() => encodeSafetensors(new Map([["w", f32([2, 2], [1, 2, 3])]]), {}), {
    instanceOf: CheckpointError,
    message: 'cannot encode tensor "w": shape [2, 2] has 4 elements but the data has 3',
  });
});

test("the writer refuses a dtype that does not match the data's array type", (t) => {
  const wrong: TensorEntry = { dtype: "I32", shape: [1], data: new Float32Array(1) };
  t.throws(() => encodeSafetensors(new Map([["w", wrong]]), {}), {
    instanceOf: CheckpointError,
    message: 'cannot encode tensor "w": dtype I32 but the data is a Float32Array',
  });
});

test("the writer refuses a tensor named __metadata__", (t) => {
  t.throws(() => encodeSafetensors(new Map([["__metadata__", f32([1], [1])]]), {}), {
    instanceOf: CheckpointError,
    message: 'cannot encode tensor "__metadata__": the name __metadata__ is reserved for the metadata',
  });
});

// ---- reader validation: one test per problem, each with its message

test("a file shorter than the 8-byte length is truncated", (t) => {
  t.is(decodeError(new Uint8Array(5)), "m.safetensors: truncated: 5 bytes, too short for the 8-byte header length");
});

test("a header length beyond the end of the file is refused", (t) => {
  const bytes = craft('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', [0, 0, 0, 0]);
  new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
  t.is(decodeError(bytes), `m.safetensors: header length 1000 runs past the end of the file (${bytes.length - 8} bytes after the length)`);
});

test("a file cut off inside its data is refused", (t) => {
  const whole = encodeSafetensors(new Map([["w", f32([4], [1, 2, 3, 4])]]), {});
  t.is(decodeError(whole.subarray(0, whole.length - 3)), 'm.safetensors: tensor "w": data_offsets [0, 16] run past the 13-byte data buffer');
});

test("a header length of 2^64 - 1 is refused without overflow", (t) => {
  const bytes = new Uint8Array(16).fill(0xff);
  t.is(decodeError(bytes), "m.safetensors: header length 18446744073709551615 runs past the end of the file (8 bytes after the length)");
});

test("a header that is not JSON is refused", (t) => {
  t.regex(decodeError(craft('{"w": {"dtype": "F32",')), /^m\.safetensors: header is not valid JSON \(.+\)$/);
});

test("a header that is not valid UTF-8 is refused", (t) => {
  const bytes = craft("{}");
  bytes[8] = 0xff;
  t.is(decodeError(bytes), "m.safetensors: header is not valid UTF-8");
});

test("a header that is a JSON array is refused", (t) => {
  t.is(decodeError(craft("[]")), "m.safetensors: header is not a JSON object");
});

test("a non-string metadata value is refused", (t) => {
  t.is(decodeError(craft('{"__metadata__": {"epoch": 3}}')), 'm.safetensors: __metadata__ value of "epoch" is not a string');
});

test("an unknown dtype is refused", (t) => {
  t.is(
    decodeError(craft('{"w": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}}', [0, 0, 0, 0])),
    'm.safetensors: tensor "w": unknown dtype "F31"',
  );
});

test("a known dtype that dlc does not use is refused by name", (t) => {
  t.is(
    decodeError(craft('{"w": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}', [0, 0, 0, 0, 0, 0, 0, 0])),
    'm.safetensors: tensor "w": dtype F64 is not supported (dlc reads F32 and I32)',
  );
});

test("a shape that is not non-negative integers is refused", (t) => {
  t.is(
    decodeError(craft('{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}', [0, 0, 0, 0])),
    'm.safetensors: tensor "w": shape is not a list of non-negative integers',
  );
});

test("data_offsets that are not a pair are refused", (t) => {
  t.is(
    decodeError(craft('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}', [0, 0, 0, 0])),
    'm.safetensors: tensor "w": data_offsets is not a pair of non-negative integers',
  );
});

test("a byte count that does not match shape times item size is refused", (t) => {
  t.is(
    decodeError(craft('{"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}', new Array(20).fill(0))),
    'm.safetensors: tensor "w": shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20',
  );
});

test("data_offsets that end before they begin are refused", (t) => {
  t.is(
    decodeError(craft('{"w": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}', [0, 0, 0, 0])),
    'm.safetensors: tensor "w": data_offsets [4, 0] end before they begin',
  );
});

test("overlapping tensors are refused, naming both", (t) => {
  const header =
    '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}';
  t.is(decodeError(craft(header, new Array(12).fill(0))), 'm.safetensors: tensor "b": data_offsets [4, 12] overlap tensor "a" [0, 8]');
});

test("a gap between tensors is refused", (t) => {
  const header =
    '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}';
  t.is(decodeError(craft(header, new Array(12).fill(0))), "m.safetensors: gap: data bytes [4, 8) belong to no tensor");
});

test("a gap before the first tensor is refused", (t) => {
  const header = '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}';
  t.is(decodeError(craft(header, new Array(8).fill(0))), "m.safetensors: gap: data bytes [0, 4) belong to no tensor");
});

test("trailing data that no tensor covers is refused", (t) => {
  const header = '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}';
  t.is(decodeError(craft(header, new Array(6).fill(0))), "m.safetensors: gap: data bytes [4, 6) belong to no tensor");
});

test("every validation message is one line, even for names with newlines", (t) => {
  const message = decodeError(craft('{"a\\nb": {"dtype": "X", "shape": [], "data_offsets": [0, 0]}}'));
  t.is(message, 'm.safetensors: tensor "a\\nb": unknown dtype "X"');
  t.false(message.includes("\n"));
});
