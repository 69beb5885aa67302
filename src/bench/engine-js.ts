/** Speed of the engine on the reference model (vocab 100, context 64, width 128, 4 layers, 4 heads,
 * MLP 512) with the plain-JS backend: time per training step (batch 32×64, forward + backward +
 * AdamW) and sampling throughput (64 sequences decoded together).
 * Run: npm run build && node dist/bench/engine-js.js [--steps N] */
import { performance } from 'node:perf_hooks';
import type { Backend } from '../engine/backend.js';
import { jsBackend } from '../engine/backends/js.js';
import { REFERENCE_CONFIG } from '../engine/config.js';
import { backward, createGpt, forward, zeroGrads } from '../engine/model.js';
import { sample } from '../engine/sample.js';
import { createCharTokenizer } from '../engine/tokenizer.js';
import { trainSft } from '../engine/train.js';
import { createRng } from '../util/random.js';

export interface EngineBenchResult {
  backend: string;
  params: number;
  forwardMs: number;
  backwardMs: number;
  trainStepMs: number;
  /** Process CPU time per training step (equals wall time for a single-threaded backend on an
   * idle machine; robust against other load). */
  trainStepCpuMs: number;
  sampleTokensPerSecond: number;
  /** Sampled tokens per second of process CPU time. */
  sampleTokensPerCpuSecond: number;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Measure `backend` on the reference model. */
export function benchEngine(backend: Backend, steps = 5): EngineBenchResult {
  const tokenizer = createCharTokenizer();
  const config = { ...REFERENCE_CONFIG, vocabSize: tokenizer.vocabSize };
  const model = createGpt(config, { backend, seed: 1 });
  const B = 32, T = 64;
  const rng = createRng(7);
  const batch = {
    B, T,
    tokens: Int32Array.from({ length: B * T }, () => rng.int(4, config.vocabSize - 1)),
    targets: Int32Array.from({ length: B * T }, () => rng.int(4, config.vocabSize - 1)),
    mask: new Float32Array(B * T).fill(1),
  };

  // Forward and backward alone (after one warm-up pass).
  zeroGrads(model);
  forward(model, batch);
  backward(model);
  let fwd = 0, bwd = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    forward(model, batch);
    const t1 = performance.now();
    backward(model);
    fwd += t1 - t0;
    bwd += performance.now() - t1;
  }

  // Full training steps through trainSft: batches of 32 full-length examples.
  const text = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(rng.int(97, 122))).join('');
  const examples = Array.from({ length: 32 * (steps + 1) }, () => ({ prompt: text(20), completion: text(42) }));
  // The first step (warm-up, allocation) is left out of both averages.
  let wall0 = 0, cpu0 = 0;
  trainSft(model, tokenizer, examples, {
    batchSize: 32, maxSteps: steps + 1,
    onProgress: (p) => {
      if (p.step === 1) {
        wall0 = performance.now();
        cpu0 = cpuMs();
      }
    },
  });
  const trainStepMs = (performance.now() - wall0) / steps;
  const trainStepCpuMs = (cpuMs() - cpu0) / steps;

  // Sampling: 64 prompts decoded together until the context is full (no EOS: maxTokens bounds it).
  const prompts = Array.from({ length: 64 }, () => text(8));
  sample(model, tokenizer, prompts.slice(0, 4), { maxTokens: 8, seed: 1 });
  const s0 = performance.now();
  const c0 = cpuMs();
  const out = sample(model, tokenizer, prompts, { maxTokens: 64 - 9, seed: 2, batchSize: 64 });
  const sampled = out.reduce((n, r) => n + r[0]!.tokens.length + (r[0]!.finishReason === 'eos' ? 1 : 0), 0);
  const sampleTokensPerSecond = sampled / ((performance.now() - s0) / 1000);
  const sampleTokensPerCpuSecond = sampled / ((cpuMs() - c0) / 1000);

  return {
    backend: backend.name, params: model.params.length,
    forwardMs: fwd / steps, backwardMs: bwd / steps, trainStepMs, trainStepCpuMs, sampleTokensPerSecond, sampleTokensPerCpuSecond,
  };
}

function main(): void {
  const i = process.argv.indexOf('--steps');
  const steps = i >= 0 ? Number(process.argv[i + 1]) : 5;
  const r = benchEngine(jsBackend, steps);
  console.log(`backend ${r.backend}, ${r.params} parameters`);
  console.log(`forward  ${r.forwardMs.toFixed(0)} ms, backward ${r.backwardMs.toFixed(0)} ms (batch 32×64)`);
  console.log(`training step ${r.trainStepMs.toFixed(0)} ms wall, ${r.trainStepCpuMs.toFixed(0)} ms CPU (forward + backward + clip + AdamW)`);
  console.log(`sampling ${r.sampleTokensPerSecond.toFixed(0)} tokens/s wall, ${r.sampleTokensPerCpuSecond.toFixed(0)} tokens/CPU-s (64 sequences)`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
