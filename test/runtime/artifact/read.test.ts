// Artifacts: what the compiler writes, the runtime reads back unchanged; a
// truncated, edited, foreign or future-version file is refused with one line
// saying what is wrong.

import test from "ava";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Compilation } from "../../../compiler/compilation.js";
import { ArtifactError } from "../../../runtime/artifact/format.js";
import { parseArtifact } from "../../../runtime/artifact/read.js";
import { ROOT } from "../../helpers/paths.js";

const iris = new Compilation(join(ROOT, "models/iris.ts"));
const model = iris.model({ training: true, webgpu: true });
const bytes = iris.artifact({ training: true, webgpu: true });
const text = Buffer.from(bytes).toString("utf8");
const [headerLine, payloadLine] = text.split("\n") as [string, string];

function refused(t: import("ava").ExecutionContext, b: Uint8Array | string, message: RegExp) {
  const error = t.throws(() => parseArtifact(typeof b === "string" ? Buffer.from(b) : b, "m.dlc"), { instanceOf: ArtifactError });
  t.regex(error.message, message);
  t.is(error.message.split("\n").length, 1, "one line");
  t.regex(error.message, /^m\.dlc: /);
}

/** A header for a payload, with a correct digest. */
const rehash = (payload: string, header: Record<string, unknown> = JSON.parse(headerLine)) =>
  JSON.stringify({ ...header, payload_bytes: Buffer.byteLength(payload), sha256: createHash("sha256").update(payload).digest("hex") }) + "\n" + payload + "\n";

test("an artifact reads back to the model that was written", (t) => {
  const read = parseArtifact(bytes, "m.dlc");
  t.deepEqual(read.model, { ...JSON.parse(JSON.stringify(model)), file: "iris.ts" });
  t.true(read.fusion);
  t.true(read.memoryPlans.some((p) => p.entry === "train"));
});

test("the header names the format, its version, the compiler, and the payload's size and digest", (t) => {
  const h = JSON.parse(headerLine);
  t.is(h.format, "dlc-artifact");
  t.is(h.version, 1);
  t.regex(h.compiler, /^dlc \d+\.\d+\.\d+$/);
  t.is(h.payload_bytes, Buffer.byteLength(payloadLine));
  t.regex(h.sha256, /^[0-9a-f]{64}$/);
});

test("a truncated artifact is refused", (t) => refused(t, bytes.subarray(0, bytes.length - 1000), /truncated: the payload has \d+ of \d+ bytes/));

test("an edited artifact is refused", (t) => refused(t, text.replace('"lr":0.1', '"lr":0.2'), /corrupted or edited/));

test("an artifact from a newer dlc is refused with what to do", (t) => refused(t, rehash(payloadLine, { ...JSON.parse(headerLine), version: 2 }), /newer dlc \(format version 2, .*\); this runtime reads version 1/));

test("a header field of the wrong type says so, rather than blaming a newer dlc", (t) => {
  const header = JSON.parse(headerLine);
  refused(t, rehash(payloadLine, { ...header, version: "1" }), /^m\.dlc: the header field "version" is a string; expected an integer$/);
  refused(t, rehash(payloadLine, { ...header, version: 1.5 }), /the header field "version" is the number 1\.5; expected an integer/);
  refused(t, `${JSON.stringify({ ...header, version: undefined })}\n${payloadLine}\n`, /the header field "version" is missing; expected an integer/);
  refused(t, `${JSON.stringify({ ...header, payload_bytes: String(header.payload_bytes) })}\n${payloadLine}\n`, /the header field "payload_bytes" is a string; expected a byte count/);
});

test("a file that is not an artifact is refused", (t) => {
  refused(t, "label,pixel1\n1,2\n", /not a dlc artifact/);
  refused(t, "", /no header line/);
});

test("a payload with a correct digest but an unknown op is refused by the validator", (t) => {
  refused(t, rehash(payloadLine.replace('"op":"matmul"', '"op":"system"')), /invalid payload: .*unknown op 'system'/);
});

test("a payload whose program refers to a later node is refused", (t) => {
  const p = JSON.parse(payloadLine);
  p.model.entries[0].cpu.graph.nodes[1].inputs = [5];
  refused(t, rehash(JSON.stringify(p)), /invalid payload: payload\.model\.entries\[0\]\.cpu\.graph\.nodes\[1\]\.inputs\[0\]: refers to node 5, which does not come before it/);
});

test("source positions: each node's line in the model, and an artifact without them (an older compiler's) loads", (t) => {
  const p = JSON.parse(payloadLine);
  const graph = p.model.entries[0].cpu.graph;
  t.deepEqual(graph.locations.files, ["iris.ts"]);
  t.is(graph.locations.nodes.length, graph.nodes.length);
  const matmul = graph.nodes.findIndex((n: { op: string }) => n.op === "matmul");
  const [file, line] = graph.locations.nodes[matmul];
  t.is(file, 0);
  t.regex(readFileSync(join(ROOT, "models/iris.ts"), "utf8").split("\n")[line - 1]!, /matmul|@/);
  for (const e of [...p.model.entries, p.model.train.step]) {
    delete e.cpu.graph.locations;
    if (e.gpu) delete e.gpu.graph.locations;
  }
  t.notThrows(() => parseArtifact(Buffer.from(rehash(JSON.stringify(p))), "m.dlc"));
});

test("source positions that do not fit their graph are refused", (t) => {
  const p = JSON.parse(payloadLine);
  const graph = p.model.entries[0].cpu.graph;
  graph.locations.nodes.pop();
  refused(t, rehash(JSON.stringify(p)), /invalid payload: payload\.model\.entries\[0\]\.cpu\.graph\.locations\.nodes: has \d+ positions for \d+ nodes/);
  const q = JSON.parse(payloadLine);
  q.model.entries[0].cpu.graph.locations.nodes[0] = [7, 1, 1];
  refused(t, rehash(JSON.stringify(q)), /locations\.nodes\[0\]\[0\]: no such file/);
  q.model.entries[0].cpu.graph.locations.nodes[0] = [0, 0, 1];
  refused(t, rehash(JSON.stringify(q)), /locations\.nodes\[0\]\[1\]: expected an integer >= 1/);
});

test("a payload with a malformed dimension is refused", (t) => {
  const p = JSON.parse(payloadLine);
  p.model.entries[0].inputs[0].shape = ["batch;drop", 4];
  refused(t, rehash(JSON.stringify(p)), /expected a dimension/);
});

test("a payload whose training ABI names a missing parameter is refused", (t) => {
  const p = JSON.parse(payloadLine);
  const b = p.model.train.abi.outputs.find((o: { role: string }) => o.role === "param");
  b.param = "nope";
  refused(t, rehash(JSON.stringify(p)), /invalid payload: payload\.model\.train\.abi\.outputs\[1\]: updates 'nope', which is not a parameter of the model/);
});

test("a payload whose parameter shape does not match the training step is refused", (t) => {
  const p = JSON.parse(payloadLine);
  p.model.params[0].shape = [5, 3];
  refused(t, rehash(JSON.stringify(p)), /invalid payload: payload\.model\.train\.abi\.inputs\[\d\]: 'opt\/velocity\/w' has shape \[4, 3\], its parameter 'w' \[5, 3\]/);
});

test("a version-1 artifact written before the training ABI was recorded reads with the same ABI", (t) => {
  const p = JSON.parse(payloadLine);
  delete p.model.train.abi;
  t.deepEqual(parseArtifact(Buffer.from(rehash(JSON.stringify(p))), "m.dlc").model.train!.abi, model.train!.abi);
});
