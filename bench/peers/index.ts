// The peers dlc's benchmarks compare against, by backend name. Each library is
// loaded only when one of its backends is asked for.

import type { Peer, PeerBackend } from "./types.js";

export type { HostTensor, Micro, Model, Peer, PeerBackend, Runner, TrainingData, TrainingRunner } from "./types.js";
export { MICROS, PEER_BACKENDS, Unavailable } from "./types.js";

/** The peer for `backend`, or why it cannot run here. */
export async function createPeer(backend: PeerBackend): Promise<Peer | { unavailable: string }> {
  try {
    switch (backend) {
      case "tfjs-cpu":
      case "tfjs-wasm":
      case "tfjs-webgpu":
        return await (await import("./tfjs.js")).createTfjsPeer(backend);
      case "jax-wasm":
      case "jax-webgpu":
        return await (await import("./jax.js")).createJaxPeer(backend);
    }
  } catch (e) {
    return { unavailable: `${backend}: ${(e as Error).message}` };
  }
}

/**
 * Publishes one Dawn instance as navigator.gpu. Call it before dlc's
 * openDevice() so that dlc and the peers share that instance (otherwise dlc
 * opens its own, on the same adapter).
 */
export { ensureWebGpu } from "./env.js";
