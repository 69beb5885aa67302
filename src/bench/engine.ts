/** The engine on the reference model, side by side in one run: one training step (batch 32×64:
 * forward, backward, clipping, AdamW) with the wasm backend, with the plain-JS backend, and with an
 * equivalent GPT written in TensorFlow.js (pure-JS "cpu" backend); then KV-cached sampling
 * throughput at batch 64 for the reference model and a 0.11M one.
 * Run: npm run bench:engine  (or: node dist/bench/engine.js [--quick] [--no-tfjs] [--steps N]) */
import { performance } from 'node:perf_hooks';
import type { Backend } from '../engine/backend.js';
import { JsBackend } from '../engine/backends/js.js';
import { createWasmBackend } from '../engine/backends/wasm.js';
import { parallelCapacity } from './kernels.js';
import { type ModelConfig, REFERENCE_CONFIG, countParams } from '../engine/config.js';
import { createGpt } from '../engine/model.js';
import { sample } from '../engine/sample.js';
import { type CharTokenizer, createCharTokenizer } from '../engine/tokenizer.js';
import { trainSft } from '../engine/train.js';
import { createRng } from '../util/random.js';

const B = 32;

/** Training FLOPs per step: 6 per parameter per token (forward 2, backward 4) plus attention's
 * score and value products, 12·L·C·T per token (counted in full, as is usual). */
function stepFlops(c: ModelConfig, tokens: number, T: number): number {
  return 6 * countParams(c) * tokens + 12 * c.nLayer * c.dModel * T * tokens;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Examples that fill the context exactly (BOS + prompt + completion = 64 inputs), so every batch
 * is 32×64. */
function fullExamples(n: number, seed: number, ctx: number): { prompt: string; completion: string }[] {
  const rng = createRng(seed);
  const text = (k: number): string => Array.from({ length: k }, () => String.fromCharCode(rng.int(97, 122))).join('');
  return Array.from({ length: n }, () => ({ prompt: text(20), completion: text(ctx - 21) }));
}

/** Seconds of each training step after `warmup` untimed ones. */
function trainSteps(backend: Backend, tokenizer: CharTokenizer, config: ModelConfig, warmup: number, steps: number): number[] {
  const model = createGpt(config, { backend, seed: 1 });
  const examples = fullExamples(B * (warmup + steps), 3, config.contextLength);
  const times: number[] = [];
  let last = performance.now();
  trainSft(model, tokenizer, examples, {
    batchSize: B, maxSteps: warmup + steps, bucketByLength: false,
    onProgress: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  return times.slice(warmup);
}

/** Generated tokens per second: 64 prompts of 8 characters decoded together to the context end. */
function sampleRate(backend: Backend, tokenizer: CharTokenizer, config: ModelConfig, rounds: number): number {
  const model = createGpt(config, { backend, seed: 1 });
  const rng = createRng(5);
  const prompts = Array.from({ length: 64 }, () => Array.from({ length: 8 }, () => String.fromCharCode(rng.int(97, 122))).join(''));
  const maxTokens = config.contextLength - 9;
  sample(model, tokenizer, prompts.slice(0, 8), { maxTokens: 8, seed: 1 });
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const out = sample(model, tokenizer, prompts, { maxTokens, seed: 2 + r, batchSize: 64 });
    const tokens = out.reduce((n, c) => n + c[0]!.tokens.length + (c[0]!.finishReason === 'eos' ? 1 : 0), 0);
    rates.push(tokens / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** The backend without its fused decoding step, so sampling runs kernel by kernel (the path
 * before the fused step existed), for a side-by-side ratio in the same run. */
function layerByLayer(backend: Backend): Backend {
  // Methods stay bound to the real backend, so its allocator and thread state are shared.
  return new Proxy(backend, {
    get(target, key) {
      if (key === 'packDecode' || key === 'decodeForward') return undefined;
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The same GPT in TensorFlow.js (pure-JS cpu backend): the baseline the engine is measured against.

type Tf = typeof import('@tensorflow/tfjs');

async function tfjsStepSeconds(c: ModelConfig, steps: number): Promise<number[]> {
  const tf: Tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { dModel: C, nHead: H, dMlp: F, nLayer: L, vocabSize: V, contextLength: T } = c;
  const hs = C / H;
  const normal = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  const wte = normal([V, C]), wpe = normal([T, C]);
  const layers = Array.from({ length: L }, () => ({
    ln1g: ones(C), ln1b: zeros(C), wqkv: normal([C, 3 * C]), bqkv: zeros(3 * C), wproj: normal([C, C]), bproj: zeros(C),
    ln2g: ones(C), ln2b: zeros(C), wfc: normal([C, F]), bfc: zeros(F), wfp: normal([F, C]), bfp: zeros(C),
  }));
  const lnfg = ones(C), lnfb = zeros(C);
  const vars = [wte, wpe, lnfg, lnfb, ...layers.flatMap((l) => Object.values(l))];

  const layerNorm = (x: import('@tensorflow/tfjs').Tensor2D, g: import('@tensorflow/tfjs').Variable, b: import('@tensorflow/tfjs').Variable) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).add(b) as import('@tensorflow/tfjs').Tensor2D;
  };
  const gelu = (x: import('@tensorflow/tfjs').Tensor2D) =>
    x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)) as import('@tensorflow/tfjs').Tensor2D;
  // Additive causal mask: 0 on and below the diagonal, −1e9 above.
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9);

  const rng = createRng(9);
  const tokens = tf.tensor2d(Array.from({ length: B * T }, () => rng.int(0, V - 1)), [B, T], 'int32');
  const targets = tf.oneHot(tf.tensor1d(Array.from({ length: B * T }, () => rng.int(0, V - 1)), 'int32'), V);
  const positions = tf.range(0, T, 1, 'int32');
  const lossFn = () => {
    let x = tf.gather(wte, tokens.reshape([B * T])).add(tf.tile(tf.gather(wpe, positions), [B, 1])) as import('@tensorflow/tfjs').Tensor2D;
    for (const l of layers) {
      const h = layerNorm(x, l.ln1g, l.ln1b);
      const qkv = h.matMul(l.wqkv).add(l.bqkv);
      const [q, k, v] = tf.split(qkv, 3, 1).map((t) => t.reshape([B, T, H, hs]).transpose([0, 2, 1, 3]));
      const att = tf.softmax(tf.matMul(q!, k!, false, true).mul(1 / Math.sqrt(hs)).add(mask));
      const y = tf.matMul(att, v!).transpose([0, 2, 1, 3]).reshape([B * T, C]);
      x = x.add(y.matMul(l.wproj).add(l.bproj));
      const m = gelu(layerNorm(x, l.ln2g, l.ln2b).matMul(l.wfc).add(l.bfc) as import('@tensorflow/tfjs').Tensor2D);
      x = x.add(m.matMul(l.wfp).add(l.bfp));
    }
    const logits = layerNorm(x, lnfg, lnfb).matMul(wte, false, true);
    return tf.losses.softmaxCrossEntropy(targets, logits) as import('@tensorflow/tfjs').Scalar;
  };
  const opt = tf.train.adam(1e-3, 0.9, 0.95, 1e-8);
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    tf.tidy(() => {
      opt.minimize(lossFn, false, vars);
    });
    times.push((performance.now() - t0) / 1000);
  }
  tf.disposeVariables();
  return times;
}

// ---------------------------------------------------------------------------------------------

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const withTfjs = !process.argv.includes('--no-tfjs');
  const steps = arg('--steps', quick ? 4 : 10);
  const tokenizer = createCharTokenizer();
  const ref: ModelConfig = { ...REFERENCE_CONFIG, vocabSize: tokenizer.vocabSize };
  const small: ModelConfig = { ...ref, dModel: 64, nLayer: 2, nHead: 4, dMlp: 256 };
  const T = ref.contextLength;
  const flops = stepFlops(ref, B * T, T);
  const wasm = createWasmBackend();
  const wasm1 = createWasmBackend({ threads: 1, simd: wasm.simd });
  console.log(`reference model: ${countParams(ref)} parameters (V ${ref.vocabSize}, T ${T}, C ${ref.dModel}, L ${ref.nLayer}, H ${ref.nHead}, MLP ${ref.dMlp}); `
    + `training step = batch ${B}×${T} = ${(flops / 1e9).toFixed(2)} GFLOP`);
  console.log(`wasm backend: ${wasm.simd} SIMD, ${wasm.threads} threads (node ${process.version})`);
  console.log(`machine check: ${wasm.threads} busy threads do ${(await parallelCapacity(wasm.threads)).toFixed(2)}× the work of one\n`);

  const rows: { name: string; sec: number; note: string }[] = [];
  const add = (name: string, times: number[], note: string) => rows.push({ name, sec: median(times), note });
  add(`wasm ×${wasm.threads}`, trainSteps(wasm, tokenizer, ref, 2, steps), `median of ${steps}`);
  wasm.reset();
  add('wasm ×1', trainSteps(wasm1, tokenizer, ref, 2, quick ? 2 : 5), `median of ${quick ? 2 : 5}`);
  wasm1.reset();
  add('js backend', trainSteps(new JsBackend(), tokenizer, ref, 1, quick ? 1 : 2), `median of ${quick ? 1 : 2}`);
  if (withTfjs) {
    const times = await tfjsStepSeconds(ref, quick ? 1 : 2);
    // The first step also builds the graph's kernels; the later ones are the steady state.
    rows.push({ name: 'tfjs (cpu)', sec: Math.min(...times), note: `best of ${times.length}` });
  }
  const tfjs = rows.find((r) => r.name.startsWith('tfjs'));
  console.log('training step (forward + backward + clip + AdamW), reference model, batch 32×64');
  console.log(`${'backend'.padEnd(12)} ${'s/step'.padStart(8)} ${'GFLOP/s'.padStart(8)} ${'vs tfjs'.padStart(8)}  timing`);
  for (const r of rows) {
    const ratio = tfjs ? `${(tfjs.sec / r.sec).toFixed(1)}×` : '-';
    console.log(`${r.name.padEnd(12)} ${r.sec.toFixed(3).padStart(8)} ${(flops / r.sec / 1e9).toFixed(1).padStart(8)} ${ratio.padStart(8)}  ${r.note}`);
  }

  console.log('\nKV-cached sampling, 64 sequences decoded together (prompt 8, to the end of the context)');
  const rounds = quick ? 1 : 3;
  for (const [label, config] of [['reference', ref], ['0.11M', small]] as const) {
    const parts = [
      `wasm ×${wasm.threads} ${sampleRate(wasm, tokenizer, config, rounds).toFixed(0)}`,
      `wasm ×${wasm.threads} layer by layer ${sampleRate(layerByLayer(wasm), tokenizer, config, rounds).toFixed(0)}`,
      `wasm ×1 ${sampleRate(wasm1, tokenizer, config, rounds).toFixed(0)}`,
      `js ${sampleRate(new JsBackend(), tokenizer, config, 1).toFixed(0)}`,
    ];
    console.log(`${label.padEnd(9)} (${countParams(config)} params): ${parts.join(' | ')} tokens/s`);
    wasm.reset();
    wasm1.reset();
  }
  wasm.close();
  wasm1.close();
}

await main();
