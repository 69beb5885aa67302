/** Does the embedded engine learn a domain? SFT from scratch on generated problems for a time
 * budget, then greedy responses to held-out problems graded by the domain's verifier.
 * Run: npm run learn -- [--domain blocksworld] [--difficulties 3,4] [--minutes 10] [--d 96]
 *        [--layers 4] [--heads 4] [--batch 32] [--lr 2e-3] [--warmup N] [--wd 0.1] [--held-out 500]
 *        [--seed 0] [--chars] [--steps N (instead of the time budget)] [--eval-every N] [--out DIR]
 * Defaults are the best measured for Blocksworld 3–4 in ten minutes (README, Status). */
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
    minutes: { type: 'string', default: '10' },
    d: { type: 'string', default: '96' },
    layers: { type: 'string', default: '4' },
    heads: { type: 'string', default: '4' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '2e-3' },
    'held-out': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string' },
    chars: { type: 'boolean', default: false },
    steps: { type: 'string' },
    'eval-every': { type: 'string', default: '0' },
    warmup: { type: 'string' },
    wd: { type: 'string' },
  },
});
const domain = getDomain(a.domain!);
const blocks = a.difficulties!.split(',').map(Number);
const seed = Number(a.seed);
const heldOutCount = Number(a['held-out']);
const budgetMs = Number(a.minutes) * 60_000;
const started = Date.now();

// One stream of distinct problems, split by a hash of the prompt: about 10% of every grade's
// problems are held out, so small grades (3 blocks has only 132 distinct problems) appear in both.
const heldOut: ReturnType<typeof domain.generate>[] = [];
const train: ReturnType<typeof domain.generate>[] = [];
{
  const seen = new Set<string>();
  const hash = (text: string) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h >>> 0;
  };
  for (let i = 0; i < 200_000 && train.length < 50_000; i++) {
    const p = domain.generate(problemSeed(seed ^ 0x7a1, i), blocks[i % blocks.length]!);
    if (seen.has(p.prompt)) continue;
    seen.add(p.prompt);
    if (hash(p.prompt) % 10 === 0) {
      if (heldOut.length < heldOutCount) heldOut.push(p);
    } else train.push(p);
  }
}
const examples = train.map((p) => ({ prompt: p.prompt, completion: domain.goldCompletion(p) }));
console.log(`example:\n${examples[0]!.prompt}${examples[0]!.completion}`);

const tokenizer = new CharTokenizer(undefined, a.chars ? [] : [...domain.words!]);
const longest = Math.max(...[...heldOut, ...train].map((p) => tokenizer.encode(p.prompt + domain.goldCompletion(p)).length + 2));
const config = makeConfig({ vocabSize: tokenizer.vocabSize, contextLength: longest, dModel: Number(a.d), nLayer: Number(a.layers), nHead: Number(a.heads) });
const backend = createWasmBackend();
const model = createGpt(config, { backend, seed });
console.log(`${domain.name} ${blocks.join(',')}: ${train.length} training problems, ${heldOut.length} held out; model ${(countParams(config) / 1e6).toFixed(2)}M params, context ${longest}, ${backend.name} x${backend.threads}`);

// Steps: time a short warm-up (steps 3–12: the first two allocate; batched by length as the real
// run is), then train for the budget less a minute kept for the held-out evaluation.
const marks: number[] = [];
trainSft(createGpt(config, { backend, seed: seed + 1 }), tokenizer, examples.filter((_, i) => i % Math.max(1, Math.floor(examples.length / 640)) === 0), {
  maxSteps: 12, batchSize: Number(a.batch), learningRate: 1e-3, seed, onProgress: (i) => marks.push(i.elapsedMs),
});
const stepMs = (marks[11]! - marks[1]!) / 10;
const evalReserveMs = 60_000;
const steps = a.steps ? Number(a.steps) : Math.max(50, Math.floor((budgetMs - evalReserveMs - (Date.now() - started)) / stepMs));
console.log(`~${stepMs.toFixed(0)} ms per step → ${steps} steps`);

const result = trainSft(model, tokenizer, examples, {
  maxSteps: steps, batchSize: Number(a.batch), learningRate: Number(a.lr), seed,
  ...(a.warmup ? { warmupSteps: Number(a.warmup) } : {}), ...(a.wd ? { weightDecay: Number(a.wd) } : {}),
  onProgress: (i) => {
    if (i.step % 200 === 0 || i.step === i.totalSteps) console.log(`step ${i.step}/${i.totalSteps} loss ${i.loss.toFixed(4)} lr ${i.lr.toExponential(2)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    const every = Number(a['eval-every']);
    if (every > 0 && i.step % every === 0 && i.step < i.totalSteps) {
      const score = (probe: typeof train) => {
        const out = sample(model, tokenizer, probe.map((p) => p.prompt), { n: 1, temperature: 0, maxTokens: longest, seed });
        return probe.filter((p, k) => domain.verify(p, out[k]![0]!.text).verdict === 'correct').length;
      };
      console.log(`  step ${i.step}: ${score(heldOut.slice(0, 100))}/100 held-out, ${score(train.slice(0, 100))}/100 training problems correct`);
    }
  },
});

const completions = sample(model, tokenizer, heldOut.map((p) => p.prompt), { n: 1, temperature: 0, maxTokens: longest, seed });
const graded = heldOut.map((p, i) => ({ p, text: completions[i]![0]!.text, verdict: domain.verify(p, completions[i]![0]!.text) }));
const byBlocks = new Map<number, { n: number; correct: number }>();
let correct = 0;
for (const { p, verdict } of graded) {
  const ok = verdict.verdict === 'correct';
  correct += ok ? 1 : 0;
  const e = byBlocks.get(p.difficulty) ?? { n: 0, correct: 0 };
  e.n++;
  e.correct += ok ? 1 : 0;
  byBlocks.set(p.difficulty, e);
}
const failures = graded.filter(({ verdict }) => verdict.verdict !== 'correct');
for (const { p, text, verdict } of failures.slice(0, 3)) {
  console.log(`--- ${p.prompt}gold:\n${domain.goldCompletion(p)}\nmodel:\n${text}\nverdict: ${JSON.stringify(verdict)}`);
}
const seconds = (Date.now() - started) / 1000;
console.log(`held-out greedy responses correct: ${correct}/${heldOut.length} = ${((100 * correct) / heldOut.length).toFixed(1)}% ` +
  `(${[...byBlocks].map(([b, e]) => `${domain.difficulty.name} ${b}: ${((100 * e.correct) / e.n).toFixed(1)}%`).join(', ')}); ${result.steps} steps, ${seconds.toFixed(0)} s total`);
if (a.out) saveCheckpoint(a.out, model, tokenizer, { metadata: { task: `${domain.name} ${blocks.join(',')} SFT` } });
backend.close();
