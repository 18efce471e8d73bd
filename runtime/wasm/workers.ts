// A pool of workers that call functions of one WebAssembly module over one
// shared memory, for the products' threads (gemm.ts). The protocol is plain
// data, so that any host with workers and SharedArrayBuffer can carry it:
//
// - each worker instantiates the same compiled module over the same shared
//   memory (both cloneable to a worker) and reports ready in a control block,
//   an Int32Array over a SharedArrayBuffer apart from the memory;
// - a job is a function index (into the names the pool was created with) and
//   up to MAX_ARGS i32 arguments, written into the worker's slot of the
//   control block; the caller bumps the slot's `go` counter and notifies, the
//   worker calls the function and stores the counter into `done`;
// - waiting spins briefly, then sleeps in Atomics.wait; an exception in a
//   worker (a trap, say) is written into its slot as text and rethrown on the
//   calling thread, after every other job of the call has finished.
//
// The calling thread blocks while it waits (Atomics.wait), which Node allows
// on its main thread and browsers only in workers: creation and `run` are
// synchronous, as the CPU executable's steps are. How a worker is started is
// the host's business (workers-node.ts, workers-web.ts), the one
// host-specific part.

import { nodeWorkerHost } from "./workers-node.js";
import { webWorkerHost } from "./workers-web.js";
import type { WasmMemory, WasmModule } from "./api.js";

/** Arguments a job may carry. */
export const MAX_ARGS = 32;

// The control block: one slot of SLOT int32s per worker.
const SLOT = 256;
const GO = 0; // jobs posted
const DONE = 1; // jobs finished
const STATE = 2; // STARTING, READY, FAILED or EXITED
const FN = 3; // the job's function index; STOP asks the worker to return
const NARGS = 4;
const ARGS = 8;
const ERROR = ARGS + MAX_ARGS; // length of the error text, then its UTF-16 codes
const ERROR_CHARS = SLOT - ERROR - 1;
const [STARTING, READY, FAILED, EXITED] = [0, 1, 2, 3];
const STOP = -1;
const LOAD = -2; // the job of instantiating the module just posted to the worker

/**
 * How long a worker polls for its next job before it sleeps, and the caller
 * for the workers' results (ms). Waking a sleeping thread costs tens of
 * microseconds, which short polls save between back-to-back jobs; but where
 * the cores are oversubscribed a polling thread keeps the one it waits for
 * off the CPU (2 ms polls made 2-4 ms round trips on a loaded 2-core
 * machine, against about 0.1 ms with these).
 */
const WORKER_SPIN_MS = 0.05;
const CALLER_SPIN_MS = 0.05;

/** The worker's program, plain JavaScript defining `start(init)`: it instantiates the module, then serves jobs until told to stop. */
export const WORKER_SOURCE = `
"use strict";
function start(init, listen) {
  const ctl = new Int32Array(init.control);
  const at = init.slot;
  const fail = (e) => {
    const text = String((e && e.stack) || e).slice(0, ${ERROR_CHARS});
    for (let i = 0; i < text.length; i++) ctl[at + ${ERROR} + 1 + i] = text.charCodeAt(i);
    ctl[at + ${ERROR}] = text.length;
  };
  const fns = [];
  const instantiate = (module, names) => {
    const instance = new WebAssembly.Instance(module, { env: { memory: init.memory } });
    for (const name of names) {
      const fn = instance.exports[name];
      if (typeof fn !== "function") throw new Error("the module exports no function " + name);
      fns.push(fn);
    }
  };
  try {
    instantiate(init.module, init.names);
  } catch (e) {
    fail(e);
    Atomics.store(ctl, at + ${STATE}, ${FAILED});
    Atomics.notify(ctl, at + ${STATE});
    return;
  }
  // Read before reporting ready: the first job may be posted the moment after.
  let seen = Atomics.load(ctl, at + ${GO});
  const done = () => {
    Atomics.store(ctl, at + ${DONE}, seen);
    Atomics.notify(ctl, at + ${DONE});
  };
  // Serves jobs until told to stop, or to load a module: that comes as a
  // message, delivered once this returns to the event loop.
  const serve = () => {
    for (;;) {
      const spinUntil = performance.now() + ${WORKER_SPIN_MS};
      while (Atomics.load(ctl, at + ${GO}) === seen) {
        if (performance.now() > spinUntil) Atomics.wait(ctl, at + ${GO}, seen);
      }
      seen = Atomics.load(ctl, at + ${GO});
      const fn = ctl[at + ${FN}];
      if (fn === ${STOP}) break;
      if (fn === ${LOAD}) return;
      try {
        fns[fn].apply(null, Array.from(ctl.subarray(at + ${ARGS}, at + ${ARGS} + ctl[at + ${NARGS}])));
      } catch (e) {
        fail(e);
      }
      done();
    }
    Atomics.store(ctl, at + ${STATE}, ${EXITED});
  };
  listen((message) => {
    try {
      instantiate(message.module, message.names);
    } catch (e) {
      fail(e);
    }
    done();
    serve();
  });
  Atomics.store(ctl, at + ${STATE}, ${READY});
  Atomics.notify(ctl, at + ${STATE});
  serve();
}
`;

/** What a worker receives: all of it structured-cloneable (the memory and the control block are shared, not copied). */
export interface WorkerInit {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly control: SharedArrayBuffer;
  /** The first int32 of this worker's slot in the control block. */
  readonly slot: number;
  readonly names: readonly string[];
}

/** Starts workers: the one host-specific part. */
export interface WorkerHost {
  /**
   * Starts a worker that runs `program` and calls its `start(init, listen)`,
   * where `listen(handler)` has the handler called with each message posted
   * to the worker; it must not keep the host alive. `exited` is called (on
   * the host's event loop) when it ends.
   */
  spawn(program: string, init: WorkerInit, exited: (why: string) => void): WorkerHandle;
  /**
   * Starts `count` workers for `program` ahead of `spawn`, where a worker
   * cannot start while its creator blocks (a browser); resolves once they run.
   */
  prepare?(program: string, count: number): Promise<void>;
}

export interface WorkerHandle {
  /** Posts a structured-cloneable message (a module to load) to the worker. */
  post(message: ModuleMessage): void;
  terminate(): void;
}

/** A module a worker instantiates over the pool's memory, and the functions it adds to the worker's table. */
export interface ModuleMessage {
  readonly module: WasmModule;
  readonly names: readonly string[];
}

/** The workers of the host this JavaScript runs in (Node's worker_threads, a browser's Web Workers), or why the pool cannot have any here. */
export function workerHostOrWhy(): WorkerHost | string {
  return nodeWorkerHost() ?? webWorkerHost() ?? "this JavaScript host has no workers";
}

/** The host this JavaScript runs in, where it has workers the pool can use. */
export function defaultWorkerHost(): WorkerHost | undefined {
  const host = workerHostOrWhy();
  return typeof host === "string" ? undefined : host;
}

/** Starts `count` workers ahead where the host needs it (a browser): await it before a pool of that many is created. */
export async function prepareWorkers(count: number, host = defaultWorkerHost()): Promise<void> {
  if (count > 0) await host?.prepare?.(WORKER_SOURCE, count);
}

/** One call of a module function on a worker: the function's index in the pool's table (its names, then those of each module loaded) and its i32 arguments. */
export interface Job {
  readonly fn: number;
  readonly args: readonly number[];
}

export interface PoolOptions {
  /** How long creation waits for the workers to instantiate the module (ms). */
  readonly readyTimeout?: number;
  /** The least time a job may take after the caller's own share finished before it counts as hung (ms); also at least 100 times the caller's share. */
  readonly hangTimeout?: number;
  readonly host?: WorkerHost;
}

export class WorkerPool {
  private readonly control: Int32Array;
  private readonly handles: WorkerHandle[] = [];
  /** Why a worker died, noted by the host between runs. */
  private dead: string | undefined;
  private disposed = false;
  private readonly hangTimeout: number;
  /** Functions in the workers' table: the constructor's names, then those of each module loaded. */
  private functions: number;
  /** Jobs posted to workers so far (loads included): how tests see that work was split. */
  posted = 0;

  /** Starts `size` workers and blocks until each has instantiated `module` over `memory`; throws if one fails or none answers in time. */
  constructor(module: WasmModule, memory: WasmMemory, readonly names: readonly string[], readonly size: number, options: PoolOptions = {}) {
    const host = options.host ?? defaultWorkerHost();
    if (!host) throw new Error("this JavaScript host has no workers");
    if (!(memory.buffer instanceof SharedArrayBuffer)) throw new Error("workers need a shared memory");
    this.hangTimeout = options.hangTimeout ?? 30_000;
    this.functions = names.length;
    const control = new SharedArrayBuffer(4 * SLOT * size);
    this.control = new Int32Array(control);
    try {
      for (let w = 0; w < size; w++) {
        this.handles.push(host.spawn(WORKER_SOURCE, { module, memory, control, slot: w * SLOT, names }, (why) => (this.dead ??= `worker ${w + 1} ${why}`)));
      }
      const deadline = Date.now() + (options.readyTimeout ?? 20_000);
      for (let w = 0; w < size; w++) {
        const at = w * SLOT + STATE;
        while (Atomics.load(this.control, at) === STARTING) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`worker ${w + 1} of ${size} did not start within ${options.readyTimeout ?? 20_000} ms`);
          Atomics.wait(this.control, at, STARTING, left);
        }
        if (Atomics.load(this.control, at) !== READY) throw new Error(`worker ${w + 1} failed to start: ${this.errorOf(w)}`);
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * Runs jobs[w] on worker w (jobs.length <= size) and `own` on this thread
   * meanwhile; returns when all are done. Rethrows the first error, this
   * thread's or a worker's, once every job has finished.
   */
  run(jobs: readonly Job[], own: () => void): void {
    if (this.disposed) throw new Error("the worker pool was disposed");
    if (this.dead) throw new Error(this.dead);
    if (jobs.length > this.size) throw new Error(`${jobs.length} jobs for ${this.size} workers`);
    for (const job of jobs) if (job.args.length > MAX_ARGS) throw new Error(`a job has ${job.args.length} arguments, more than ${MAX_ARGS}`);
    const c = this.control;
    this.posted += jobs.length;
    const posted = jobs.map((job, w) => {
      const at = w * SLOT;
      c[at + FN] = job.fn;
      c[at + NARGS] = job.args.length;
      c.set(job.args, at + ARGS);
      const seq = Atomics.add(c, at + GO, 1) + 1;
      Atomics.notify(c, at + GO);
      return seq;
    });
    let failure: unknown;
    const started = performance.now();
    try {
      own();
    } catch (e) {
      failure = e;
    }
    const waitFrom = performance.now();
    const limit = Math.max(this.hangTimeout, 100 * (waitFrom - started));
    posted.forEach((seq, w) => {
      const at = w * SLOT + DONE;
      for (;;) {
        const done = Atomics.load(c, at);
        if (done === seq) break;
        const waited = performance.now() - waitFrom;
        if (waited < CALLER_SPIN_MS) continue;
        Atomics.wait(c, at, done, 50);
        if (waited > limit) {
          this.dead = `worker ${w + 1} did not finish its job within ${Math.round(limit)} ms`;
          failure ??= new Error(this.dead);
          return;
        }
      }
      if (c[w * SLOT + ERROR]! > 0) failure ??= new Error(`worker ${w + 1}: ${this.errorOf(w)}`);
    });
    if (failure !== undefined) throw failure;
  }

  /**
   * Instantiates another module over the memory in every worker (a plan's
   * kernels) and returns the table index of its first function: `names[i]`
   * is then job function `first + i`. Blocks until every worker has it.
   */
  load(module: WasmModule, names: readonly string[]): number {
    if (this.disposed) throw new Error("the worker pool was disposed");
    if (this.dead) throw new Error(this.dead);
    for (const h of this.handles) h.post({ module, names });
    this.run(this.handles.map(() => ({ fn: LOAD, args: [] })), () => {});
    const first = this.functions;
    this.functions += names.length;
    return first;
  }

  /** Stops the workers; the pool runs nothing afterwards. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const c = this.control;
    this.handles.forEach((h, w) => {
      c[w * SLOT + FN] = STOP;
      Atomics.add(c, w * SLOT + GO, 1);
      Atomics.notify(c, w * SLOT + GO);
      h.terminate();
    });
  }

  /** Takes (and clears) worker w's error text. */
  private errorOf(w: number): string {
    const c = this.control;
    const at = w * SLOT + ERROR;
    const text = String.fromCharCode(...c.subarray(at + 1, at + 1 + c[at]!));
    c[at] = 0;
    return text;
  }
}
