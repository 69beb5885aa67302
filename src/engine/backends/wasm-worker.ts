/** The worker side of the wasm backend's thread pool, and the layout of the control block both
 * sides share. The worker is plain JavaScript evaluated from a string (`{ eval: true }`), so it runs
 * the same from the TypeScript sources under vitest and from the compiled dist/ build. */

/** Int32 indices into the control block; the hot words sit on separate cache lines. */
export const CTRL = {
  /** Generation counter: the host bumps it to start a job. */
  seq: 0,
  /** Workers that have finished the current job. */
  done: 16,
  /** Kernel index of the job (−1: exit). */
  cmd: 32,
  /** Threads the job uses (the host is thread 0; workers with tid ≥ nt only acknowledge). */
  nt: 33,
  /** Set to 1 + tid by a worker whose kernel threw. */
  err: 34,
  /** Workers that have instantiated the module. */
  ready: 48,
  /** Workers asleep in Atomics.wait (waking one costs tens of microseconds). */
  sleeping: 49,
} as const;
/** Bytes of the control block; the float64 argument slots follow it. */
export const CTRL_BYTES = 256;
export const ARG_SLOTS = 32;

/** The slice of the WebAssembly JS API the backend uses, typed here because the project's libs
 * (ES2023 + @types/node 20) do not declare it. */
export interface WasmModule { readonly __wasmModule?: never }
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (desc: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface WorkerInit {
  module: WasmModule;
  memory: WasmMemory;
  ctrl: number;
  args: number;
  tid: number;
  names: string[];
  spin: number;
}

/** Worker loop: spin briefly on the generation word (a job usually follows the last one within
 * microseconds during a training step), then sleep in Atomics.wait. Every worker acknowledges every
 * job, so the host never rewrites the arguments while a late worker could still read them. */
export const WORKER_SOURCE = `
'use strict';
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl, args, tid, names, spin } = workerData;
const SEQ = ${CTRL.seq}, DONE = ${CTRL.done}, CMD = ${CTRL.cmd}, NT = ${CTRL.nt}, ERR = ${CTRL.err}, READY = ${CTRL.ready};
const SLEEPING = ${CTRL.sleeping};
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const c = new Int32Array(memory.buffer, ctrl, ${CTRL_BYTES / 4});
let seen = Atomics.load(c, SEQ);
Atomics.add(c, READY, 1);
Atomics.notify(c, READY);
for (;;) {
  let s = Atomics.load(c, SEQ);
  for (let i = 0; s === seen && i < spin; i++) s = Atomics.load(c, SEQ);
  if (s === seen) {
    Atomics.add(c, SLEEPING, 1);
    while (s === seen) {
      Atomics.wait(c, SEQ, seen);
      s = Atomics.load(c, SEQ);
    }
    Atomics.sub(c, SLEEPING, 1);
  }
  seen = s;
  const cmd = Atomics.load(c, CMD);
  if (cmd < 0) break;
  const nt = Atomics.load(c, NT);
  if (tid < nt) {
    try {
      fns[cmd](args, tid, nt);
    } catch (e) {
      Atomics.store(c, ERR, tid + 1);
    }
  }
  Atomics.add(c, DONE, 1);
  Atomics.notify(c, DONE);
}
`;
