// Writing an artifact: the payload as one JSON line, its digest in the header
// line, written atomically.

import { createHash } from "node:crypto";
import { writeFileAtomic } from "../../runtime/checkpoint/atomic.js";
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, encodeNumbers, type ArtifactHeader, type ArtifactPayload } from "../../runtime/artifact/format.js";
import type { ModelProgram } from "../../runtime/program/model.js";
import { planMemory } from "../../runtime/webgpu/memory.js";
import { VERSION } from "../../runtime/version.js";

export function artifactBytes(model: ModelProgram, fusion: boolean): Uint8Array {
  const batch = model.train?.config.batch ?? 32;
  const memoryPlans = [...model.entries, ...(model.train ? [model.train.step] : [])]
    .filter((e) => e.gpu)
    .map((e) => {
      const env = Object.fromEntries(e.gpu!.symbols.map((s) => [s, batch]));
      const p = planMemory(e.gpu!, env);
      return { entry: e.name, env, slots: p.slots, slotOf: [...p.slotOf], peakBytes: p.peakBytes };
    });
  // Source paths stay out: an artifact is portable and names its model by file name only.
  const payload: ArtifactPayload = { model: { ...model, file: model.file.split("/").pop()! }, fusion, memoryPlans };
  const body = Buffer.from(JSON.stringify(payload, encodeNumbers), "utf8");
  const header: ArtifactHeader = {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    compiler: `dlc ${VERSION}`,
    payload_bytes: body.length,
    sha256: createHash("sha256").update(body).digest("hex"),
  };
  return Buffer.concat([Buffer.from(JSON.stringify(header) + "\n", "utf8"), body, Buffer.from("\n")]);
}

export function writeArtifact(path: string, model: ModelProgram, fusion: boolean): number {
  const bytes = artifactBytes(model, fusion);
  writeFileAtomic(path, bytes);
  return bytes.length;
}
