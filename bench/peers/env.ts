// The browser globals the peers expect, provided in Node.
//
// Node 20 has no `navigator`; jax-js reads `navigator.userAgent` even on Wasm,
// and TensorFlow.js and jax-js both open WebGPU through `navigator.gpu`. Both
// must run on the adapter dlc runs on, so there is one Dawn instance (npm
// `webgpu`) for the process, published as `navigator.gpu`; dlc's own
// openDevice() (runtime/webgpu/device.ts) uses it too when ensureWebGpu() ran
// first (called after it, dlc keeps its own instance: a second one, on the
// same default adapter, which works but is one more Dawn in the process). The
// object that `create()` returns is kept referenced here for the life of the
// process: Dawn has crashed when it was collected. A live device keeps Node
// from exiting, so scripts that use these peers end with process.exit().

import { describeAdapter } from "../../runtime/webgpu/device.js";

type Navigatorish = { gpu?: GPU; userAgent?: string; hardwareConcurrency?: number };

// Kept for the life of the process on purpose (see above).
let dawn: GPU | undefined;

/** `globalThis.navigator`, created or extended with what the peers read. */
export function ensureNavigator(): Navigatorish {
  const g = globalThis as { navigator?: Navigatorish };
  if (!g.navigator) {
    Object.defineProperty(globalThis, "navigator", {
      value: { userAgent: `Node.js/${process.versions.node}` },
      configurable: true,
      writable: true,
    });
  }
  const nav = g.navigator!;
  if (typeof nav.userAgent !== "string") Object.defineProperty(nav, "userAgent", { value: `Node.js/${process.versions.node}`, configurable: true });
  return nav;
}

export interface WebGpu {
  readonly gpu: GPU;
  /** The adapter that navigator.gpu gives for powerPreference "high-performance", as dlc describes it. */
  readonly description: string;
}

/** navigator.gpu (Dawn's, shared with dlc), or undefined when there is no adapter. */
export async function ensureWebGpu(): Promise<WebGpu | undefined> {
  const nav = ensureNavigator();
  if (!nav.gpu) {
    const { create, globals } = await import("webgpu");
    // GPUBufferUsage, GPUMapMode, ... are globals in a browser; Dawn exports them.
    Object.assign(globalThis, globals);
    dawn = create([]);
    Object.defineProperty(nav, "gpu", { value: dawn, configurable: true, writable: true });
  }
  const adapter = await nav.gpu!.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return undefined;
  return { gpu: nav.gpu!, description: describeAdapter(adapter) };
}
