/** Kernel speed, side by side in one run: matmul GFLOP/s on the reference model's shapes (B·T = 2048
 * rows, d_model 128, MLP 512) for the wasm backend on 1 and 2 threads, the plain-JS backend's
 * blocked matmul and a naive triple loop; then the other kernels' time per call on 1 and 2 threads.
 * Run: npm run bench:kernels  (or: node dist/bench/kernels.js [--quick]) */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Backend } from '../engine/backend.js';
import { JsBackend } from '../engine/backends/js.js';
import { createWasmBackend, type WasmBackend } from '../engine/backends/wasm.js';

interface Shape {
  label: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
}

const SHAPES: Shape[] = [
  { label: 'qkv   x·W      ', M: 2048, N: 384, K: 128, transA: false, transB: false, accumulate: false },
  { label: 'fc    x·W      ', M: 2048, N: 512, K: 128, transA: false, transB: false, accumulate: false },
  { label: 'proj  h·W      ', M: 2048, N: 128, K: 512, transA: false, transB: false, accumulate: false },
  { label: 'qkv   dY·Wᵀ    ', M: 2048, N: 128, K: 384, transA: false, transB: true, accumulate: false },
  { label: 'proj  dY·Wᵀ    ', M: 2048, N: 512, K: 128, transA: false, transB: true, accumulate: false },
  { label: 'qkv   dW+=Xᵀ·dY', M: 128, N: 384, K: 2048, transA: true, transB: false, accumulate: true },
  { label: 'proj  dW+=Hᵀ·dY', M: 512, N: 128, K: 2048, transA: true, transB: false, accumulate: true },
  { label: 'decode x·W (64)', M: 64, N: 384, K: 128, transA: false, transB: false, accumulate: false },
];

/** C (+)= op(A)·op(B) the obvious way: one dot product per output element. */
function naiveMatmul(C: Float32Array, A: Float32Array, B: Float32Array, M: number, N: number, K: number,
  transA: boolean, transB: boolean, accumulate: boolean): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (transA ? A[k * M + i]! : A[i * K + k]!) * (transB ? B[j * K + k]! : B[k * N + j]!);
      C[i * N + j] = (accumulate ? C[i * N + j]! : 0) + s;
    }
  }
}

/** Median seconds per call of fn, over at least `minReps` calls and `minSeconds` (after a warm-up). */
function timeIt(fn: () => void, minSeconds: number, minReps = 3): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || (performance.now() - start) / 1000 < minSeconds) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

function randomize(v: Float32Array, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    v[i] = ((x >>> 0) / 4294967296 - 0.5) * 2;
  }
  return v;
}

type MatmulFn = (s: Shape) => number;

function wasmMatmul(be: WasmBackend, seconds: number): MatmulFn {
  return (s) => {
    const A = randomize(be.alloc(s.M * s.K), 1), B = randomize(be.alloc(s.K * s.N), 2), C = be.alloc(s.M * s.N);
    const t = timeIt(() => be.matmul(C, A, B, s.M, s.N, s.K, s.transA, s.transB, s.accumulate), seconds, 10);
    be.reset();
    return t;
  };
}

function jsMatmul(be: Backend, seconds: number): MatmulFn {
  return (s) => {
    const A = randomize(new Float32Array(s.M * s.K), 1), B = randomize(new Float32Array(s.K * s.N), 2);
    const C = new Float32Array(s.M * s.N);
    return timeIt(() => be.matmul(C, A, B, s.M, s.N, s.K, s.transA, s.transB, s.accumulate), seconds, 1);
  };
}

function naive(seconds: number): MatmulFn {
  return (s) => {
    const A = randomize(new Float32Array(s.M * s.K), 1), B = randomize(new Float32Array(s.K * s.N), 2);
    const C = new Float32Array(s.M * s.N);
    return timeIt(() => naiveMatmul(C, A, B, s.M, s.N, s.K, s.transA, s.transB, s.accumulate), seconds, 1);
  };
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const gflops = (s: Shape, sec: number): number => (2 * s.M * s.N * s.K) / sec / 1e9;

function benchMatmul(w1: WasmBackend, w2: WasmBackend, quick: boolean): void {
  const sec = quick ? 0.2 : 0.6;
  const cols: [string, MatmulFn][] = [
    [`wasm×${w2.threads}`, wasmMatmul(w2, sec)],
    ['wasm×1', wasmMatmul(w1, sec)],
    ['js blocked', jsMatmul(new JsBackend(), quick ? 0 : 0.3)],
    ['js naive', naive(0)],
  ];
  console.log(`\nmatmul GFLOP/s (${w1.simd} SIMD; median per call)`);
  console.log(`${'shape'.padEnd(16)} ${pad('M×N×K', 15)} ${cols.map(([n]) => pad(n, 10)).join(' ')}  ${pad(`×${w2.threads}/×1`, 8)} ${pad('vs js', 7)} ${pad('vs naive', 8)}`);
  let sum1 = 0, sum2 = 0, flops = 0;
  for (const s of SHAPES) {
    const g = cols.map(([, f]) => gflops(s, f(s)));
    const [g2, g1, gjs, gnaive] = g as [number, number, number, number];
    sum1 += (2 * s.M * s.N * s.K) / (g1 * 1e9);
    sum2 += (2 * s.M * s.N * s.K) / (g2 * 1e9);
    flops += 2 * s.M * s.N * s.K;
    console.log(`${s.label} ${pad(`${s.M}×${s.N}×${s.K}`, 15)} ${g.map((x) => pad(x.toFixed(1), 10)).join(' ')}  ${pad((g2 / g1).toFixed(2), 8)} ${pad((g2 / gjs).toFixed(0) + '×', 7)} ${pad((g2 / gnaive).toFixed(0) + '×', 8)}`);
  }
  console.log(`all shapes: ${(flops / sum2 / 1e9).toFixed(1)} GFLOP/s on ${w2.threads} threads, ${(flops / sum1 / 1e9).toFixed(1)} on 1 (×${(sum1 / sum2).toFixed(2)})`);
}

interface KernelCase {
  label: string;
  run: (be: WasmBackend) => () => void;
}

/** The reference model's other kernels at training size (B 32, T 64, C 128, H 4, MLP 512). */
const KERNELS: KernelCase[] = [
  {
    label: 'attention fwd  B32 T64 C128 H4',
    run: (be) => {
      const qkv = randomize(be.alloc(2048 * 384), 3), out = be.alloc(2048 * 128), att = be.alloc(32 * 4 * 64 * 64);
      return () => be.attentionForward(out, att, qkv, 32, 64, 128, 4);
    },
  },
  {
    label: 'attention bwd  B32 T64 C128 H4',
    run: (be) => {
      const qkv = randomize(be.alloc(2048 * 384), 3), out = be.alloc(2048 * 128), att = be.alloc(32 * 4 * 64 * 64);
      const dqkv = be.alloc(2048 * 384), datt = be.alloc(att.length), dout = randomize(be.alloc(2048 * 128), 4);
      be.attentionForward(out, att, qkv, 32, 64, 128, 4);
      return () => be.attentionBackward(dqkv, datt, dout, qkv, att, 32, 64, 128, 4);
    },
  },
  {
    label: 'layernorm fwd  2048×128',
    run: (be) => {
      const x = randomize(be.alloc(2048 * 128), 5), out = be.alloc(x.length), m = be.alloc(2048), r = be.alloc(2048);
      const w = randomize(be.alloc(128), 6), b = be.alloc(128);
      return () => be.layerNormForward(out, m, r, x, w, b, 2048, 128);
    },
  },
  {
    label: 'layernorm bwd  2048×128',
    run: (be) => {
      const x = randomize(be.alloc(2048 * 128), 5), out = be.alloc(x.length), m = be.alloc(2048), r = be.alloc(2048);
      const w = randomize(be.alloc(128), 6), b = be.alloc(128), dx = be.alloc(x.length), dw = be.alloc(128), db = be.alloc(128);
      const dout = randomize(be.alloc(x.length), 7);
      be.layerNormForward(out, m, r, x, w, b, 2048, 128);
      return () => be.layerNormBackward(dx, dw, db, dout, x, w, m, r, 2048, 128);
    },
  },
  {
    label: 'gelu fwd       2048×512',
    run: (be) => {
      const x = randomize(be.alloc(2048 * 512), 8), y = be.alloc(x.length);
      return () => be.geluForward(y, x, x.length);
    },
  },
  {
    label: 'gelu bwd       2048×512',
    run: (be) => {
      const x = randomize(be.alloc(2048 * 512), 8), d = be.alloc(x.length), g = randomize(be.alloc(x.length), 9);
      return () => be.geluBackward(d, x, g, x.length);
    },
  },
  {
    label: 'adamw          0.82M params',
    run: (be) => {
      const n = 820_000;
      const p = randomize(be.alloc(n), 10), g = randomize(be.alloc(n), 11), m = be.alloc(n), v = be.alloc(n);
      let t = 0;
      return () => be.adamw(p, g, m, v, n, 1e-3, 0.9, 0.95, 1e-8, 0.1, ++t);
    },
  },
];

function benchKernels(w1: WasmBackend, w2: WasmBackend, quick: boolean): void {
  const sec = quick ? 0.1 : 0.3;
  const js = new JsBackend();
  console.log('\nother kernels, µs per call (median)');
  console.log(`${'kernel'.padEnd(31)} ${pad(`wasm×${w2.threads}`, 10)} ${pad('wasm×1', 10)} ${pad(`×${w2.threads}/×1`, 8)} ${pad('js', 10)} ${pad('vs js', 7)}`);
  for (const k of KERNELS) {
    const t2 = timeIt(k.run(w2), sec, 10);
    w2.reset();
    const t1 = timeIt(k.run(w1), sec, 10);
    w1.reset();
    // The JS backend's alloc returns plain arrays, which the same setup code accepts.
    const tj = timeIt(k.run(js as unknown as WasmBackend), quick ? 0 : 0.2, 1);
    console.log(`${k.label.padEnd(31)} ${pad((t2 * 1e6).toFixed(0), 10)} ${pad((t1 * 1e6).toFixed(0), 10)} ${pad((t1 / t2).toFixed(2), 8)} ${pad((tj * 1e6).toFixed(0), 10)} ${pad((tj / t2).toFixed(0) + '×', 7)}`);
  }
}

/** Work `n` threads get done together relative to one thread alone, on a float loop that touches no
 * memory: 2.0 means two free cores. On a shared machine this drops when other load (or an SMT
 * sibling) takes a core, which explains a ×2/×1 column well below 2. */
export async function parallelCapacity(n = 2): Promise<number> {
  const src = `const { parentPort } = require('node:worker_threads');
    let x = 1.0001, y = 0.9999, ops = 0; const end = performance.now() + 300;
    while (performance.now() < end) { for (let i = 0; i < 100000; i++) { x = x * y + 1e-9; y = y * x + 1e-9; } ops++; }
    parentPort.postMessage(ops + (x + y) * 0);`;
  const run = (k: number) => Promise.all(Array.from({ length: k }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(src, { eval: true });
    w.once('message', (m: number) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  })));
  const one = (await run(1))[0]!;
  const many = (await run(n)).reduce((a, b) => a + b, 0);
  return many / one;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // The pool's own speed: no fallback to one thread when the machine is busy (see the check).
  const w2 = createWasmBackend({ adaptive: false });
  const w1 = createWasmBackend({ threads: 1, simd: w2.simd });
  console.log(`wasm backend: ${w2.simd} SIMD, ${w2.threads} threads (node ${process.version})`);
  console.log(`machine check: ${w2.threads} busy threads do ${(await parallelCapacity(w2.threads)).toFixed(2)}× the work of one`);
  benchMatmul(w1, w2, quick);
  benchKernels(w1, w2, quick);
  if (w2.simd === 'relaxed') {
    const p1 = createWasmBackend({ threads: 1, simd: 'simd' });
    const p2 = createWasmBackend({ simd: 'simd', threads: w2.threads, adaptive: false });
    console.log('\nplain SIMD variant (no fused multiply-add), for engines without relaxed SIMD:');
    benchMatmul(p1, p2, true);
    p1.close();
    p2.close();
  }
  w1.close();
  w2.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
