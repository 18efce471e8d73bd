// Opening a WebGPU device: `navigator.gpu` in a browser, Dawn (npm `webgpu`)
// in Node (the browser build leaves the import of `webgpu` out of its bundle,
// and never reaches it). Dawn is an optional peer dependency of dlc (its binaries for every
// platform weigh over 100 MB): without it there is no adapter, and
// `webgpuMissing` says why. Two traps of Dawn in Node are handled here once: the object that
// `create()` returns must stay referenced for the life of the process (Dawn
// has crashed when it was collected), and a live device keeps the process
// from exiting, so every context is destroyed explicitly.

export interface GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** A one-line description of the adapter, e.g. "llvmpipe: Mesa 25.0.7 (software)". */
  readonly description: string;
  /** A software adapter (llvmpipe, lavapipe, SwiftShader): the CPU behind a GPU's interface. */
  readonly software: boolean;
  /** Whether the device has `timestamp-query` (asked for only by profiles). */
  readonly timestampQuery: boolean;
  destroy(): void;
}

// Kept for the life of the process on purpose (see above).
let dawn: GPU | undefined;
let missing = false;

/** Node, where Dawn is the WebGPU; anywhere else (a browser) `navigator.gpu` is the only one. */
const inNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";

/** Why there is no WebGPU to open: `reason` in a few words (auto's choice says it), `message` with what to do. */
export interface WebGpuMissing {
  readonly reason: string;
  readonly message: string;
}

/** Set once a device was asked for without a WebGPU to open (in Node, the `webgpu` package not installed). */
export function webgpuMissing(): WebGpuMissing | undefined {
  if (!missing) return undefined;
  return inNode
    ? { reason: "the webgpu package is not installed", message: "the WebGPU backend needs the 'webgpu' package (Dawn for Node), which is not installed: npm install webgpu" }
    : { reason: "this browser has no WebGPU", message: "this browser has no WebGPU (navigator.gpu is missing: an old browser, WebGPU turned off, or a page that is not a secure context)" };
}

/** What to say when there is a WebGPU but no adapter: where dlc runs decides what helps. */
export function noAdapter(): string {
  return inNode
    ? "no WebGPU adapter found (on a machine without a GPU, ./scripts/install-webgpu-cpu.sh installs a software one)"
    : "the browser offers no WebGPU adapter (WebGPU turned off, or the GPU blocklisted: chrome://gpu says which)";
}

async function gpu(): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!inNode) {
    missing = true;
    return undefined;
  }
  if (!dawn) {
    let webgpu: typeof import("webgpu");
    try {
      webgpu = await import("webgpu");
    } catch (e) {
      if ((e as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw e;
      missing = true;
      return undefined;
    }
    const { create, globals } = webgpu;
    // The WebGPU constants (GPUBufferUsage, ...) are globals in a browser; Dawn exports them.
    Object.assign(globalThis, globals);
    dawn = create([]);
  }
  return dawn;
}

/** Whether an adapter is a CPU rasterizer: so flagged, or a known one by name. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const i = adapter.info;
  const named = /llvmpipe|lavapipe|swiftshader|software/i.test([i.vendor, i.architecture, i.device, i.description].join(" "));
  return (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || i.architecture === "software" || named;
}

export function describeAdapter(adapter: GPUAdapter): string {
  const i = adapter.info;
  const text = i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(" ") || "unknown adapter";
  return isSoftwareAdapter(adapter) && !/software/i.test(text) ? `${text} (software)` : text;
}

/**
 * The limits dlc raises above WebGPU's defaults, to what the adapter allows:
 * buffer sizes (a batch's activations outgrow the default 128 MiB binding, and
 * batch sizes are bound at run time) and the buffers a fused kernel binds
 * (often more than the default 8). Its kernels stay within the defaults'
 * workgroup sizes (at most 256 invocations) and workgroup memory (16 KiB).
 */
export const NEEDED_LIMITS = ["maxStorageBufferBindingSize", "maxBufferSize", "maxStorageBuffersPerShaderStage"] as const;

export interface DeviceOptions {
  /** Ask for `timestamp-query` where the adapter has it (profiles time each dispatch with it). */
  readonly timestampQuery?: boolean;
}

/** The default adapter's device, or undefined when there is no adapter. */
export async function openDevice(options: DeviceOptions = {}): Promise<GpuContext | undefined> {
  const g = await gpu();
  const adapter = await g?.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return undefined;
  const requiredLimits: Record<string, number> = {};
  for (const k of NEEDED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const timestampQuery = options.timestampQuery === true && adapter.features.has("timestamp-query");
  const device = await adapter.requestDevice({ requiredLimits, ...(timestampQuery ? { requiredFeatures: ["timestamp-query" as GPUFeatureName] } : {}) });
  let destroyed = false;
  return {
    adapter,
    device,
    description: describeAdapter(adapter),
    software: isSoftwareAdapter(adapter),
    timestampQuery,
    destroy() {
      if (!destroyed) device.destroy();
      destroyed = true;
    },
  };
}
