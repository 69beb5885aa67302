/** Does the embedded engine learn a domain? SFT from scratch on generated problems for a time
 * budget, then greedy responses to held-out problems graded by the domain's verifier.
 * Run: npm run build && node dist/scripts/learn.js [--domain blocksworld] [--difficulties 3,4]
 *        [--minutes 8] [--d 128] [--layers 4] [--heads 4] [--batch 16] [--lr 1e-3] [--held-out 500]
 *        [--seed 0] [--chars] [--out DIR] */
import { parseArgs } from 'node:util';
import { getDomain, problemSeed } from '../domains/index.js';
import { createWasmBackend } from '../engine/backends/wasm.js';
import { countParams, makeConfig } from '../engine/config.js';
import { saveCheckpoint } from '../engine/checkpoint.js';
import { createGpt } from '../engine/model.js';
import { sample } from '../engine/sample.js';
import { CharTokenizer } from '../engine/tokenizer.js';
import { trainSft } from '../engine/train.js';

const { values: a } = parseArgs({
  options: {
    domain: { type: 'string', default: 'blocksworld' },
    difficulties: { type: 'string', default: '3,4' },
    minutes: { type: 'string', default: '8' },
    d: { type: 'string', default: '128' },
    layers: { type: 'string', default: '4' },
    heads: { type: 'string', default: '4' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '1e-3' },
    'held-out': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
    chars: { type: 'boolean', default: false },
  },
});
const domain = getDomain(a.domain!);
const blocks = a.difficulties!.split(',').map(Number);
const seed = Number(a.seed);
const heldOutCount = Number(a['held-out']);
const budgetMs = Number(a.minutes) * 60_000;
const started = Date.now();

// Held-out problems first; training problems never share a prompt with them.
const seen = new Set<string>();
const draw = (salt: number, count: number) => {
  const out: ReturnType<typeof domain.generate>[] = [];
  for (let i = 0; out.length < count && i < count * 50; i++) {
    const p = domain.generate(problemSeed(seed ^ salt, i), blocks[i % blocks.length]!);
    if (seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    out.push(p);
  }
  return out;
};
const heldOut = draw(0x7e57, heldOutCount);
const train = draw(0x7a1, 50_000);
const examples = train.map((p) => ({ prompt: p.prompt, completion: domain.goldCompletion(p) }));

const tokenizer = new CharTokenizer(undefined, a.chars ? [] : [...domain.words!]);
const longest = Math.max(...[...heldOut, ...train].map((p) => tokenizer.encode(p.prompt + domain.goldCompletion(p)).length + 2));
const config = makeConfig({ vocabSize: tokenizer.vocabSize, contextLength: longest, dModel: Number(a.d), nLayer: Number(a.layers), nHead: Number(a.heads) });
const backend = createWasmBackend();
const model = createGpt(config, { backend, seed });
console.log(`${domain.name} ${blocks.join(',')}: ${train.length} training problems, ${heldOut.length} held out; model ${(countParams(config) / 1e6).toFixed(2)}M params, context ${longest}, ${backend.name} x${backend.threads}`);

// Steps: estimate the step time on a short warm-up, then spend ~85% of the budget training.
const evalReserveMs = 60_000;
const probe = trainSft(createGpt(config, { backend, seed: seed + 1 }), tokenizer, examples.filter((_, i) => i % Math.max(1, Math.floor(examples.length / 320)) === 0), { maxSteps: 10, bucketByLength: false, batchSize: Number(a.batch), learningRate: 1e-3, seed });
const stepMs = probe.elapsedMs / probe.steps;
const steps = Math.max(50, Math.floor((budgetMs - evalReserveMs - (Date.now() - started)) / stepMs));
console.log(`~${stepMs.toFixed(0)} ms per step → ${steps} steps`);

const result = trainSft(model, tokenizer, examples, {
  maxSteps: steps, batchSize: Number(a.batch), learningRate: Number(a.lr), seed,
  onProgress: (i) => {
    if (i.step % 200 === 0 || i.step === i.totalSteps) console.log(`step ${i.step}/${i.totalSteps} loss ${i.loss.toFixed(4)} lr ${i.lr.toExponential(2)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  },
});

const completions = sample(model, tokenizer, heldOut.map((p) => p.prompt), { n: 1, temperature: 0, maxTokens: longest, seed });
const byBlocks = new Map<number, { n: number; correct: number }>();
let correct = 0;
heldOut.forEach((p, i) => {
  const ok = domain.verify(p, completions[i]![0]!.text).verdict === 'correct';
  correct += ok ? 1 : 0;
  const e = byBlocks.get(p.difficulty) ?? { n: 0, correct: 0 };
  e.n++;
  e.correct += ok ? 1 : 0;
  byBlocks.set(p.difficulty, e);
});
const failures = heldOut.map((p, i) => ({ p, text: completions[i]![0]!.text })).filter(({ p, text }) => domain.verify(p, text).verdict !== 'correct');
for (const { p, text } of failures.slice(0, 3)) {
  console.log(`--- ${p.prompt}gold:\n${domain.goldCompletion(p)}\nmodel:\n${text}\nverdict: ${JSON.stringify(domain.verify(p, text))}`);
}
const seconds = (Date.now() - started) / 1000;
console.log(`held-out greedy responses correct: ${correct}/${heldOut.length} = ${((100 * correct) / heldOut.length).toFixed(1)}% ` +
  `(${[...byBlocks].map(([b, e]) => `${domain.difficulty.name} ${b}: ${((100 * e.correct) / e.n).toFixed(1)}%`).join(', ')}); ${result.steps} steps, ${seconds.toFixed(0)} s total`);
if (a.out) saveCheckpoint(a.out, model, tokenizer, { metadata: { task: `${domain.name} ${blocks.join(',')} SFT` } });
backend.close();
