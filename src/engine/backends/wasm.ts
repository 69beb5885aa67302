/** The fast backend: kernels compiled from AssemblyScript (assembly/) to WebAssembly with SIMD,
 * running on one shared WebAssembly.Memory. Buffers from `alloc` are Float32Array views into that
 * memory (bump allocated), so kernels take plain byte offsets and nothing is ever copied. A pool of
 * worker threads instantiates the same module on the same memory; the calling thread works as
 * thread 0, and the threads meet on an Atomics control block. Small problems stay on one thread,
 * where a hand-off would cost more than it saves. */
import { readFileSync, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Backend, DecodeBuffers, DecodeNet, DecodePlan } from '../backend.js';
import {
  ARG_SLOTS, CTRL, CTRL_BYTES, WORKER_SOURCE, wasmApi, type WasmMemory, type WasmModule, type WorkerInit,
} from './wasm-worker.js';

/** 'relaxed': fused multiply-add (relaxed SIMD); 'simd': plain SIMD128; 'auto': relaxed when the
 * engine accepts it. */
export type SimdLevel = 'auto' | 'relaxed' | 'simd';

/** An optional kernel beyond `Backend`: attention of one new query per sequence against a KV cache
 * (incremental decoding), the step that dominates batched sampling when it runs as a JS loop. */
export interface DecodeAttention {
  /** qkv: n×3C (the new tokens' q, k, v); kcache, vcache: slots×ctx×C. Sequence i stores its k
   * and v at position positions[i] of cache slot slots[i], then out[i] (n×C) = softmax(q·Kᵀ/√hs)·V
   * over positions 0..positions[i] of that slot, per head. Slots must be distinct. */
  attentionDecode(out: Float32Array, qkv: Float32Array, kcache: Float32Array, vcache: Float32Array,
    slots: ArrayLike<number>, positions: ArrayLike<number>, n: number, ctx: number, C: number, H: number): void;
}

export interface WasmBackendOptions {
  /** Threads including the calling one (default: os.availableParallelism()). */
  threads?: number;
  simd?: SimdLevel;
  /** Largest memory in 64 KiB pages (default 65536 = 4 GiB, the wasm32 limit; only reserved). */
  maxPages?: number;
  /** Polls of the control word before a thread sleeps (default 20000, some 200 µs): long enough to
   * catch a kernel that follows at once without a wake-up, short enough not to hog a core the
   * calling thread may need. */
  spin?: number;
  /** Keep small jobs off sleeping workers, and fall back to one thread for a while when the pool
   * runs slower than one thread would, as on a machine whose cores are busy with other work
   * (default true; tests turn it off so every job with enough work runs on the pool). */
  adaptive?: boolean;
}

const KERNELS = ['matmul', 'layerNormForward', 'layerNormBackward', 'attentionForward', 'attentionBackward',
  'geluForward', 'geluBackward', 'adamw', 'attentionDecode', 'packWeights', 'decodeForward'] as const;
type KernelName = (typeof KERNELS)[number];
const K: Record<KernelName, number> = Object.fromEntries(KERNELS.map((n, i) => [n, i])) as Record<KernelName, number>;

type Kernel = (args: number, tid: number, nt: number) => void;
interface Exports {
  heapBase(): number;
  gemmScratchBytes(N: number, K: number): number;
  attentionScratchBytes(T: number, C: number, H: number): number;
  packedSize(K: number, N: number): number;
  decodeRowQuantum(): number;
}

/** packDecode's plan: the int32 table decodeForward reads (sizes and byte offsets, layout in
 * assembly/decode.ts), the packed weight matrices, and the chunk counter the threads claim rows
 * from. */
interface WasmDecodePlan extends DecodePlan {
  readonly table: Uint32Array;
  readonly packed: Float32Array;
  readonly counter: Int32Array;
  readonly net: DecodeNet;
  /** Cache slots the KV cache holds. */
  readonly cacheSlots: number;
}

const PLAN_LAYERS = 16;
const PLAN_LAYER_WORDS = 16;

/** Work (in flops or elements) under which one more thread costs more than it saves: a hand-off to
 * a spinning worker takes a few microseconds, to a sleeping one some tens. */
const MATMUL_FLOPS_PER_THREAD = 1_000_000;
const ATTENTION_FLOPS_PER_THREAD = 1_000_000;
const ROWS_ELEMENTS_PER_THREAD = 32_768;
const GELU_PER_THREAD = 16_384;
const ADAM_PER_THREAD = 32_768;

/** Calls run on one thread after the pool proved slower than one thread (see run()), and the delay
 * of a worker that counts as such. */
const SOLO_CALLS = 200;
const LATE_MS = 0.5;
/** Every this many decoding steps, try the way (one thread or the pool) that was slower. */
const DECODE_EXPLORE = 16;
/** Jobs under this many per-thread minimums run on the calling thread when a worker sleeps. */
const SMALL_JOB = 8;

const ALIGN = 64;
const PAGE = 65536;

/** The compiled module file of a variant: dist/wasm/ under the package root, found by walking up
 * from this file (src/engine/backends under vitest, dist/engine/backends when built). */
export function wasmPath(variant: 'relaxed' | 'simd'): string {
  const file = `kernels-${variant}.wasm`;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'dist', 'wasm', file);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`wasm backend: ${file} not found; build it with \`npm run build:wasm\``);
    dir = up;
  }
}

const modules = new Map<string, WasmModule>();

function compile(variant: 'relaxed' | 'simd'): WasmModule {
  let m = modules.get(variant);
  if (!m) {
    m = new wasmApi.Module(readFileSync(wasmPath(variant)));
    modules.set(variant, m);
  }
  return m;
}

/** Which variant this engine runs. Relaxed SIMD is standard (Wasm 3.0) and on by default from
 * Node 22; Node 20's V8 has it complete behind a flag, which takes effect for modules compiled
 * after it is set. */
export function resolveSimd(level: SimdLevel = 'auto'): 'relaxed' | 'simd' {
  if (level === 'simd') return 'simd';
  relaxedSupported ??= probeRelaxed();
  if (relaxedSupported) return 'relaxed';
  if (level === 'relaxed') throw new Error('wasm backend: this engine does not support relaxed SIMD');
  return 'simd';
}

let relaxedSupported: boolean | undefined;

function probeRelaxed(): boolean {
  const bytes = readFileSync(wasmPath('relaxed'));
  if (wasmApi.validate(bytes)) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Unknown flag on other engines: the check below decides.
  }
  return wasmApi.validate(bytes);
}

export class WasmBackend implements Backend, DecodeAttention {
  readonly name: string;
  readonly simd: 'relaxed' | 'simd';
  readonly memory: WasmMemory;
  private readonly exports: Exports;
  private readonly fns: Kernel[];
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly argv: Float64Array;
  private readonly argsPtr: number;
  private readonly spin: number;
  /** SharedArrayBuffer objects our views were made from (memory.buffer changes on growth). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly heapStart: number;
  private top: number;
  private readonly defaultScratch: number;
  private scratch = 0;
  private scratchStride = 0;
  /** int32 arguments (slot and position lists) copied into the shared memory. */
  private ints: Int32Array | null = null;
  private marks: Uint8Array | null = null;
  /** Recent ms per flop of decoding steps on one thread and on the pool (NaN: not measured). With
   * rows claimed dynamically a late worker never shows up as a slow join (the calling thread just
   * takes its rows), but still costs a wake-up per step, and when other work holds the cores one
   * thread can be faster: decodeForward measures both and keeps to the faster. */
  private readonly decodeCost = [NaN, NaN];
  private decodeCalls = 0;
  private closed = false;
  private readonly poolSize: number;
  /** Parallel calls slower than one thread would have been (less those that were not), and calls
   * left to run on one thread after three of them (see run()). */
  private slowStreak = 0;
  private soloCalls = 0;
  private readonly adaptive: boolean;

  constructor(options: WasmBackendOptions = {}) {
    const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    this.poolSize = threads;
    this.simd = resolveSimd(options.simd);
    this.name = `wasm-${this.simd}`;
    this.spin = options.spin ?? 20_000;
    this.adaptive = options.adaptive ?? true;
    const module = compile(this.simd);
    this.memory = new wasmApi.Memory({ initial: 256, maximum: options.maxPages ?? 65536, shared: true });
    const instance = new wasmApi.Instance(module, { env: { memory: this.memory } });
    const ex = instance.exports as unknown as Exports & Record<KernelName, Kernel>;
    this.exports = ex;
    this.fns = KERNELS.map((n) => ex[n]);

    const ctrlPtr = alignUp(ex.heapBase(), ALIGN);
    this.argsPtr = ctrlPtr + CTRL_BYTES;
    this.heapStart = alignUp(this.argsPtr + ARG_SLOTS * 8, ALIGN);
    this.top = this.heapStart;
    this.ctrl = new Int32Array(this.memory.buffer, ctrlPtr, CTRL_BYTES / 4);
    this.argv = new Float64Array(this.memory.buffer, this.argsPtr, ARG_SLOTS);
    this.buffers.add(this.memory.buffer);
    this.defaultScratch = Math.max(ex.gemmScratchBytes(1024, 256), ex.attentionScratchBytes(256, 1024, 8));
    this.ensureScratch(this.defaultScratch);

    try {
      for (let tid = 1; tid < threads; tid++) {
        const init: WorkerInit = { module, memory: this.memory, ctrl: ctrlPtr, args: this.argsPtr, tid, names: [...KERNELS], spin: this.spin };
        const w = new Worker(WORKER_SOURCE, { eval: true, workerData: init });
        w.unref();
        this.workers.push(w);
      }
      this.awaitReady();
    } catch (err) {
      for (const w of this.workers) void w.terminate();
      throw err;
    }
  }

  /** Threads the kernels use (1 after close()). */
  get threads(): number {
    return this.closed ? 1 : this.poolSize;
  }

  /** A zeroed buffer of n floats, 64-byte aligned, in the shared memory. */
  alloc(n: number): Float32Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`wasm backend: bad alloc size ${n}`);
    const view = this.reserveView(Float32Array, n);
    this.buffers.add(view.buffer);
    view.fill(0);
    return view;
  }

  /** A view of n fresh 4-byte elements in the shared memory. reserve() may grow the memory, which
   * replaces memory.buffer, so the view is taken only after it. */
  private reserveView<T extends Float32Array | Int32Array | Uint32Array>(
    View: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T, n: number): T {
    const ptr = this.reserve(n * 4);
    return new View(this.memory.buffer, ptr, n);
  }

  /** Frees every buffer `alloc` has handed out (their views must not be used afterwards). */
  reset(): void {
    this.top = this.heapStart;
    this.scratch = 0;
    this.scratchStride = 0;
    this.ints = null;
    this.ensureScratch(this.defaultScratch);
  }

  /** Bytes handed out so far (buffers and scratch). */
  get allocatedBytes(): number {
    return this.top - this.heapStart;
  }

  /** Stops the worker threads; the backend then runs on the calling thread only. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.workers.length > 0) {
      this.post(-1, this.workers.length + 1);
      for (const w of this.workers) void w.terminate();
      this.workers.length = 0;
    }
  }

  matmul(C: Float32Array, A: Float32Array, B: Float32Array, M: number, N: number, K_: number,
    transA: boolean, transB: boolean, accumulate: boolean): void {
    checkLen(C, M * N, 'C');
    checkLen(A, M * K_, 'A');
    checkLen(B, K_ * N, 'B');
    const cols = N;
    this.ensureScratch(this.exports.gemmScratchBytes(cols, K_));
    const a = this.argv;
    a[0] = this.ptr(C); a[1] = this.ptr(A); a[2] = this.ptr(B);
    a[3] = M; a[4] = N; a[5] = K_;
    a[6] = transA ? 1 : 0; a[7] = transB ? 1 : 0; a[8] = accumulate ? 1 : 0;
    a[9] = this.scratch; a[10] = this.scratchStride;
    this.run(K.matmul, this.split(2 * M * N * K_, MATMUL_FLOPS_PER_THREAD, Math.max(M, N) / 12));
  }

  layerNormForward(out: Float32Array, mean: Float32Array, rstd: Float32Array, inp: Float32Array,
    weight: Float32Array, bias: Float32Array, N: number, C: number): void {
    checkLen(out, N * C, 'out'); checkLen(inp, N * C, 'inp');
    checkLen(mean, N, 'mean'); checkLen(rstd, N, 'rstd'); checkLen(weight, C, 'weight'); checkLen(bias, C, 'bias');
    const a = this.argv;
    a[0] = this.ptr(out); a[1] = this.ptr(mean); a[2] = this.ptr(rstd); a[3] = this.ptr(inp);
    a[4] = this.ptr(weight); a[5] = this.ptr(bias); a[6] = N; a[7] = C;
    this.run(K.layerNormForward, this.split(N * C, ROWS_ELEMENTS_PER_THREAD, N));
  }

  layerNormBackward(dinp: Float32Array, dweight: Float32Array, dbias: Float32Array, dout: Float32Array,
    inp: Float32Array, weight: Float32Array, mean: Float32Array, rstd: Float32Array, N: number, C: number): void {
    checkLen(dinp, N * C, 'dinp'); checkLen(dout, N * C, 'dout'); checkLen(inp, N * C, 'inp');
    checkLen(dweight, C, 'dweight'); checkLen(dbias, C, 'dbias'); checkLen(weight, C, 'weight');
    checkLen(mean, N, 'mean'); checkLen(rstd, N, 'rstd');
    const a = this.argv;
    a[0] = this.ptr(dinp); a[1] = this.ptr(dweight); a[2] = this.ptr(dbias); a[3] = this.ptr(dout);
    a[4] = this.ptr(inp); a[5] = this.ptr(weight); a[6] = this.ptr(mean); a[7] = this.ptr(rstd);
    a[8] = N; a[9] = C;
    // Columns are split in groups of 4 for dweight/dbias, rows for dinp.
    this.run(K.layerNormBackward, this.split(N * C, ROWS_ELEMENTS_PER_THREAD, Math.min(N, Math.ceil(C / 4))));
  }

  attentionForward(out: Float32Array, att: Float32Array, qkv: Float32Array, B: number, T: number, C: number, H: number): void {
    checkHeads(C, H);
    checkLen(out, B * T * C, 'out'); checkLen(att, B * H * T * T, 'att'); checkLen(qkv, B * T * 3 * C, 'qkv');
    this.ensureScratch(this.exports.attentionScratchBytes(T, C, H));
    const a = this.argv;
    a[0] = this.ptr(out); a[1] = this.ptr(att); a[2] = this.ptr(qkv);
    a[3] = B; a[4] = T; a[5] = C; a[6] = H; a[7] = this.scratch; a[8] = this.scratchStride;
    this.run(K.attentionForward, this.split(2 * B * T * T * C, ATTENTION_FLOPS_PER_THREAD, B * H));
  }

  attentionBackward(dqkv: Float32Array, datt: Float32Array, dout: Float32Array, qkv: Float32Array,
    att: Float32Array, B: number, T: number, C: number, H: number): void {
    checkHeads(C, H);
    checkLen(dqkv, B * T * 3 * C, 'dqkv'); checkLen(datt, B * H * T * T, 'datt'); checkLen(dout, B * T * C, 'dout');
    checkLen(qkv, B * T * 3 * C, 'qkv'); checkLen(att, B * H * T * T, 'att');
    this.ensureScratch(this.exports.attentionScratchBytes(T, C, H));
    const a = this.argv;
    a[0] = this.ptr(dqkv); a[1] = this.ptr(datt); a[2] = this.ptr(dout); a[3] = this.ptr(qkv); a[4] = this.ptr(att);
    a[5] = B; a[6] = T; a[7] = C; a[8] = H; a[9] = this.scratch; a[10] = this.scratchStride;
    this.run(K.attentionBackward, this.split(4 * B * T * T * C, ATTENTION_FLOPS_PER_THREAD, B * H));
  }

  geluForward(out: Float32Array, inp: Float32Array, n: number): void {
    checkLen(out, n, 'out'); checkLen(inp, n, 'inp');
    const a = this.argv;
    a[0] = this.ptr(out); a[1] = this.ptr(inp); a[2] = n;
    this.run(K.geluForward, this.split(n, GELU_PER_THREAD, n / 16));
  }

  geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, n: number): void {
    checkLen(dinp, n, 'dinp'); checkLen(inp, n, 'inp'); checkLen(dout, n, 'dout');
    const a = this.argv;
    a[0] = this.ptr(dinp); a[1] = this.ptr(inp); a[2] = this.ptr(dout); a[3] = n;
    this.run(K.geluBackward, this.split(n, GELU_PER_THREAD, n / 16));
  }

  adamw(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void {
    checkLen(params, n, 'params'); checkLen(grads, n, 'grads'); checkLen(m, n, 'm'); checkLen(v, n, 'v');
    const a = this.argv;
    a[0] = this.ptr(params); a[1] = this.ptr(grads); a[2] = this.ptr(m); a[3] = this.ptr(v); a[4] = n;
    a[5] = lr; a[6] = beta1; a[7] = beta2; a[8] = eps; a[9] = weightDecay;
    a[10] = 1 / (1 - Math.pow(beta1, t)); a[11] = 1 / (1 - Math.pow(beta2, t));
    this.run(K.adamw, this.split(n, ADAM_PER_THREAD, n / 16));
  }

  attentionDecode(out: Float32Array, qkv: Float32Array, kcache: Float32Array, vcache: Float32Array,
    slots: ArrayLike<number>, positions: ArrayLike<number>, n: number, ctx: number, C: number, H: number): void {
    checkHeads(C, H);
    checkLen(out, n * C, 'out'); checkLen(qkv, n * 3 * C, 'qkv');
    if (slots.length < n || positions.length < n) throw new RangeError('wasm backend: fewer slots or positions than sequences');
    const cacheSlots = Math.floor(Math.min(kcache.length, vcache.length) / (ctx * C));
    const ints = this.intArgs(2 * n);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const slot = slots[i]!, pos = positions[i]!;
      if (!(Number.isInteger(slot) && slot >= 0 && slot < cacheSlots)) throw new RangeError(`wasm backend: cache slot ${slot} out of range`);
      if (!(Number.isInteger(pos) && pos >= 0 && pos < ctx)) throw new RangeError(`wasm backend: position ${pos} outside the context ${ctx}`);
      if (seen.has(slot)) throw new RangeError(`wasm backend: cache slot ${slot} used twice in one step`);
      seen.add(slot);
      ints[i] = slot;
      ints[n + i] = pos;
    }
    this.ensureScratch(H * ctx * 4);
    const a = this.argv;
    a[0] = this.ptr(out); a[1] = this.ptr(qkv); a[2] = this.ptr(kcache); a[3] = this.ptr(vcache);
    a[4] = ints.byteOffset; a[5] = ints.byteOffset + 4 * n;
    a[6] = n; a[7] = ctx; a[8] = C; a[9] = H; a[10] = this.scratch; a[11] = this.scratchStride;
    let work = 0;
    for (let i = 0; i < n; i++) work += 4 * (ints[n + i]! + 1) * C;
    this.run(K.attentionDecode, this.split(work, ATTENTION_FLOPS_PER_THREAD / 4, n));
  }

  /** Packs the weights for decodeForward: the four matrices of every block and the output head in
   * the gemm panel layout (once per sampling call rather than once per product), and a table of
   * the other tensors' offsets. */
  packDecode(net: DecodeNet, previous?: DecodePlan): DecodePlan {
    const { L, C, F, H, V, ctx } = net;
    checkHeads(C, H);
    if (net.layers.length !== L) throw new RangeError('wasm backend: decode net has the wrong number of layers');
    const ex = this.exports;
    const key = `${L},${C},${F},${H},${V},${ctx}`;
    const shapes: [number, number][] = [[C, 3 * C], [C, C], [C, F], [F, C]];
    const total = L * shapes.reduce((n, [k, m]) => n + ex.packedSize(k, m), 0) + ex.packedSize(C, V);
    let plan = previous as WasmDecodePlan | undefined;
    if (!plan || plan.backend !== this || plan.key !== key || plan.packed.length !== total) {
      const words = PLAN_LAYERS + L * PLAN_LAYER_WORDS;
      const table = this.reserveView(Uint32Array, words);
      const counter = this.reserveView(Int32Array, ALIGN / 4);
      plan = { backend: this, key, table, packed: this.alloc(total), counter, net, cacheSlots: 0 };
    }
    const cacheSlots = Math.floor(Math.min(...net.layers.map((l) => Math.min(l.k.length, l.v.length))) / (ctx * C));
    plan = { ...plan, net, cacheSlots };
    const t = plan.table;
    checkLen(net.wte, V * C, 'wte'); checkLen(net.wpe, ctx * C, 'wpe'); checkLen(net.lmHead, V * C, 'lmHead');
    checkLen(net.lnfw, C, 'lnfw'); checkLen(net.lnfb, C, 'lnfb');
    t.set([L, C, F, H, V, ctx, this.ptr(net.wte), this.ptr(net.wpe), this.ptr(net.lnfw), this.ptr(net.lnfb)]);
    let at = plan.packed.byteOffset;
    const pack = (w: Float32Array, K_: number, N: number, transB: boolean): number => {
      checkLen(w, K_ * N, 'weight');
      const a = this.argv;
      a[0] = at; a[1] = this.ptr(w); a[2] = K_; a[3] = N; a[4] = transB ? 1 : 0;
      this.run(K.packWeights, this.split(K_ * N, ROWS_ELEMENTS_PER_THREAD, N / 24));
      const ptr = at;
      at += ex.packedSize(K_, N) * 4;
      return ptr;
    };
    net.layers.forEach((w, l) => {
      checkLen(w.ln1w, C, 'ln1w'); checkLen(w.ln1b, C, 'ln1b'); checkLen(w.qkvb, 3 * C, 'qkvb');
      checkLen(w.attprojb, C, 'attprojb'); checkLen(w.ln2w, C, 'ln2w'); checkLen(w.ln2b, C, 'ln2b');
      checkLen(w.fcb, F, 'fcb'); checkLen(w.fcprojb, C, 'fcprojb');
      t.set([this.ptr(w.ln1w), this.ptr(w.ln1b), pack(w.qkvw, C, 3 * C, false), this.ptr(w.qkvb),
        pack(w.attprojw, C, C, false), this.ptr(w.attprojb), this.ptr(w.ln2w), this.ptr(w.ln2b),
        pack(w.fcw, C, F, false), this.ptr(w.fcb), pack(w.fcprojw, F, C, false), this.ptr(w.fcprojb),
        this.ptr(w.k), this.ptr(w.v)], PLAN_LAYERS + l * PLAN_LAYER_WORDS);
    });
    t[10] = pack(net.lmHead, C, V, true);
    return plan;
  }

  /** A whole decoding step (see Backend.decodeForward): the threads claim chunks of rows and run
   * each through every layer, meeting once per step. */
  decodeForward(plan_: DecodePlan, bufs: DecodeBuffers, tokens: ArrayLike<number>, slots: ArrayLike<number>,
    positions: ArrayLike<number>, n: number): void {
    const plan = plan_ as WasmDecodePlan;
    if (plan.backend !== this || !plan.table) throw new Error('wasm backend: decode plan from another backend');
    const { C, F, V, ctx, L } = plan.net;
    checkLen(bufs.x, n * C, 'x'); checkLen(bufs.ln, n * C, 'ln'); checkLen(bufs.qkv, n * 3 * C, 'qkv');
    checkLen(bufs.atty, n * C, 'atty'); checkLen(bufs.fch, n * F, 'fch'); checkLen(bufs.logits, n * V, 'logits');
    if (tokens.length < n || slots.length < n || positions.length < n) throw new RangeError('wasm backend: fewer tokens, slots or positions than sequences');
    const ints = this.intArgs(3 * n);
    const seen = this.slotMarks(plan.cacheSlots);
    try {
      for (let i = 0; i < n; i++) {
        const tok = tokens[i]!, slot = slots[i]!, pos = positions[i]!;
        if (!(Number.isInteger(tok) && tok >= 0 && tok < plan.net.V)) throw new RangeError(`wasm backend: token ${tok} outside the vocabulary`);
        if (!(Number.isInteger(slot) && slot >= 0 && slot < plan.cacheSlots)) throw new RangeError(`wasm backend: cache slot ${slot} out of range`);
        if (!(Number.isInteger(pos) && pos >= 0 && pos < ctx)) throw new RangeError(`wasm backend: position ${pos} outside the context ${ctx}`);
        if (seen[slot]) throw new RangeError(`wasm backend: cache slot ${slot} used twice in one step`);
        seen[slot] = 1;
        ints[i] = tok;
        ints[n + i] = slot;
        ints[2 * n + i] = pos;
      }
    } finally {
      for (let i = 0; i < n; i++) seen[slots[i]!] = 0;
    }
    // Per thread: a register tile, then H·ctx attention scores.
    this.ensureScratch(256 + plan.net.H * ctx * 4);
    const q = this.exports.decodeRowQuantum();
    Atomics.store(plan.counter, 0, 0);
    const a = this.argv;
    a[0] = plan.table.byteOffset; a[1] = n;
    a[2] = ints.byteOffset; a[3] = ints.byteOffset + 4 * n; a[4] = ints.byteOffset + 8 * n;
    a[5] = this.ptr(bufs.x); a[6] = this.ptr(bufs.ln); a[7] = this.ptr(bufs.qkv); a[8] = this.ptr(bufs.atty);
    a[9] = this.ptr(bufs.fch); a[10] = this.ptr(bufs.logits); a[11] = this.scratch; a[12] = this.scratchStride;
    a[13] = plan.counter.byteOffset; a[14] = q;
    let work = 0;
    for (let i = 0; i < n; i++) work += ints[2 * n + i]! + 1;
    const flops = 2 * n * (L * (4 * C * C + 2 * C * F) + C * V) + 4 * L * C * work;
    let nt = this.split(flops, MATMUL_FLOPS_PER_THREAD, Math.ceil(n / (2 * q)));
    if (!this.adaptive || nt <= 1) {
      this.run(K.decodeForward, nt);
      return;
    }
    // Run the way that has been faster per flop lately, the other one every DECODE_EXPLORE steps.
    const [solo, pool] = this.decodeCost;
    const explore = ++this.decodeCalls % DECODE_EXPLORE === 0;
    const usePool = Number.isNaN(pool!) ? true : Number.isNaN(solo!) ? false : (pool! <= solo!) !== explore;
    if (!usePool) nt = 1;
    const t0 = performance.now();
    this.run(K.decodeForward, nt);
    const cost = (performance.now() - t0) / flops;
    const k = usePool ? 1 : 0;
    const prev = this.decodeCost[k]!;
    this.decodeCost[k] = Number.isNaN(prev) ? cost : 0.75 * prev + 0.25 * cost;
  }

  /** Zeroed marks for cache slots 0..n−1 (duplicate check), reused across calls. */
  private slotMarks(n: number): Uint8Array {
    if (!this.marks || this.marks.length < n) this.marks = new Uint8Array(Math.max(n, 64));
    return this.marks;
  }

  /** An int32 view of at least n entries in the shared memory, reused across calls. */
  private intArgs(n: number): Int32Array {
    if (!this.ints || this.ints.length < n) {
      this.ints = this.reserveView(Int32Array, Math.max(n, 1024));
    }
    return this.ints;
  }

  /** Threads for a job of `work` units, at least `perThread` each, and at most `parts` shares. A
   * small job (under SMALL_JOB shares' worth) does not wake sleeping workers: the wake-up would
   * cost about as much as their share (decoding runs many such jobs between loops of JS). */
  private split(work: number, perThread: number, parts: number): number {
    if (this.closed) return 1;
    const nt = Math.max(1, Math.min(this.threads, Math.floor(work / perThread), Math.floor(parts)));
    if (this.adaptive && nt > 1 && work < perThread * SMALL_JOB && Atomics.load(this.ctrl, CTRL.sleeping) > 0) return 1;
    return nt;
  }

  private ptr(view: Float32Array): number {
    if (!this.buffers.has(view.buffer)) {
      throw new Error('wasm backend: kernel argument is not a buffer from this backend\'s alloc()');
    }
    return view.byteOffset;
  }

  private reserve(bytes: number): number {
    const ptr = alignUp(this.top, ALIGN);
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new RangeError(`wasm backend: out of memory (${end} bytes needed)`);
      }
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    return ptr;
  }

  /** Per-thread scratch of at least `bytes`; a larger request takes a fresh region (the old one is
   * not reused: sizes only grow with the largest shape seen, so little is lost). */
  private ensureScratch(bytes: number): void {
    if (bytes <= this.scratchStride) return;
    const stride = alignUp(bytes, ALIGN);
    this.scratch = this.reserve(stride * this.poolSize);
    this.scratchStride = stride;
  }

  private awaitReady(): void {
    const need = this.workers.length;
    const deadline = Date.now() + 30_000;
    let ready: number;
    while ((ready = Atomics.load(this.ctrl, CTRL.ready)) < need) {
      if (Date.now() > deadline) throw new Error(`wasm backend: only ${ready} of ${need} worker threads started`);
      Atomics.wait(this.ctrl, CTRL.ready, ready, 100);
    }
  }

  /** Starts a job on the workers (all of them acknowledge it). */
  private post(cmd: number, nt: number): void {
    const c = this.ctrl;
    Atomics.store(c, CTRL.cmd, cmd);
    Atomics.store(c, CTRL.nt, nt);
    Atomics.store(c, CTRL.done, 0);
    Atomics.store(c, CTRL.err, 0);
    Atomics.add(c, CTRL.seq, 1);
    Atomics.notify(c, CTRL.seq);
  }

  /** Runs kernel `cmd` on nt threads. On a machine whose cores are taken by other work, a worker
   * can be descheduled and finish far behind the calling thread: when the wait for the workers
   * exceeds what the calling thread would have needed to do their share itself, three times more
   * often than not, the next SOLO_CALLS calls run on one thread before threads are tried again.
   * Results do not depend on the thread count, so this changes only the speed. */
  private run(cmd: number, nt: number): void {
    if (nt > 1 && this.soloCalls > 0) {
      this.soloCalls--;
      nt = 1;
    }
    if (nt <= 1 || this.workers.length === 0) {
      this.fns[cmd]!(this.argsPtr, 0, 1);
      return;
    }
    this.post(cmd, nt);
    const t0 = performance.now();
    let t1 = t0;
    try {
      this.fns[cmd]!(this.argsPtr, 0, nt);
      t1 = performance.now();
    } finally {
      this.join();
    }
    if (this.adaptive) this.track(t1 - t0, performance.now() - t1, nt);
    const err = Atomics.load(this.ctrl, CTRL.err);
    if (err !== 0) throw new Error(`wasm backend: kernel ${KERNELS[cmd]} failed on thread ${err - 1}`);
  }

  /** Counts a parallel call whose wait for the workers (ms) exceeded what the calling thread, done
   * with its own share in `own` ms, would have needed for theirs, by more than a wake-up of a
   * sleeping worker costs: a descheduled worker comes back a time slice (milliseconds) late. */
  private track(own: number, wait: number, nt: number): void {
    if (wait > own * (nt - 1) + LATE_MS) {
      if (++this.slowStreak >= 3) {
        this.slowStreak = 0;
        this.soloCalls = SOLO_CALLS;
      }
    } else if (this.slowStreak > 0) {
      this.slowStreak--;
    }
  }

  private join(): void {
    const c = this.ctrl;
    const need = this.workers.length;
    let done = Atomics.load(c, CTRL.done);
    for (let i = 0; done < need && i < this.spin; i++) done = Atomics.load(c, CTRL.done);
    while (done < need) {
      Atomics.wait(c, CTRL.done, done, 50);
      done = Atomics.load(c, CTRL.done);
    }
  }
}

/** A wasm backend with `threads` threads (default: all available cores). Throws if the compiled
 * kernels are missing or the engine lacks WebAssembly SIMD. */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  return new WasmBackend(options);
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function checkLen(view: Float32Array, n: number, what: string): void {
  if (view.length < n) throw new RangeError(`wasm backend: ${what} has ${view.length} floats, needs ${n}`);
}

function checkHeads(C: number, H: number): void {
  if (H < 1 || C % H !== 0) throw new RangeError(`wasm backend: C ${C} is not divisible by H ${H}`);
}
