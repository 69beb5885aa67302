/** Sampling throughput of the loop's HTTP policy against a bare `openai` client doing the same
 * requests at the same concurrency, both against one `ceiling serve` process. The difference is
 * the orchestration overhead (limiter, endpoint choice, retries bookkeeping, n handling); the goal is
 * at most 5 %. Runs alternate between the two clients and the medians are compared.
 *
 *   npm run bench:http -- [--prompts 128] [--n 8] [--max-tokens 64] [--concurrency 32] [--repeats 6]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { getDomain } from '../domains/index.js';
import { CharTokenizer, createGpt, makeConfig, saveCheckpoint } from '../engine/index.js';
import { createOpenAIPolicy, mixSeed } from '../policies/openai.js';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const v = Number(process.argv[at + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const PROMPTS = flag('prompts', 128);
const N = flag('n', 8);
const MAX_TOKENS = flag('max-tokens', 64);
const CONCURRENCY = flag('concurrency', 32);
const REPEATS = flag('repeats', 6);
const MODEL = 'bench';

async function startServer(checkpoint: string): Promise<{ url: string; stop: () => void }> {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/ceiling.js');
  const proc = spawn(process.execPath, [bin, 'serve', '--checkpoint', checkpoint, '--model-name', MODEL, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/\S+)\/v1/.exec(out);
      if (m) ok(m[1]!);
    });
    proc.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
  return { url, stop: () => proc.kill('SIGTERM') };
}

interface Run {
  seconds: number;
  samples: number;
  chars: number;
}

async function viaPolicy(url: string, prompts: string[], seed: number): Promise<Run> {
  const policy = createOpenAIPolicy({ baseURL: `${url}/v1`, model: MODEL, concurrency: CONCURRENCY });
  const t0 = performance.now();
  const out = await policy.sample(prompts, { n: N, temperature: 1, maxTokens: MAX_TOKENS, seed });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, samples: out.flat().length, chars: out.flat().reduce((a, t) => a + t.length, 0) };
}

/** The same requests (same seeds) through a plain client and a simple worker pool. */
async function direct(url: string, prompts: string[], seed: number): Promise<Run> {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'EMPTY', maxRetries: 0 });
  let next = 0;
  let samples = 0;
  let chars = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < prompts.length) {
      const i = next++;
      const r = await client.completions.create({ model: MODEL, prompt: prompts[i]!, n: N, temperature: 1, max_tokens: MAX_TOKENS, seed: mixSeed(seed, i) });
      samples += r.choices.length;
      for (const c of r.choices) chars += c.text.length;
    }
  }));
  return { seconds: (performance.now() - t0) / 1000, samples, chars };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ceiling-bench-http-'));
  const tok = new CharTokenizer();
  // The demo preset's model size.
  saveCheckpoint(join(dir, 'ck'), createGpt(makeConfig({ vocabSize: tok.vocabSize, contextLength: 256, dModel: 64, nLayer: 2, nHead: 4 }), { seed: 1 }), tok);
  const domain = getDomain('arithmetic');
  const prompts = Array.from({ length: PROMPTS }, (_, i) => domain.generate(1000 + i, 2 + (i % 3)).prompt);
  const server = await startServer(join(dir, 'ck'));
  try {
    console.log(`${PROMPTS} prompts × n=${N}, max_tokens ${MAX_TOKENS}, concurrency ${CONCURRENCY}, ${REPEATS} alternating runs each`);
    await viaPolicy(server.url, prompts.slice(0, CONCURRENCY), 1);
    await direct(server.url, prompts.slice(0, CONCURRENCY), 1);
    const p: Run[] = [];
    const d: Run[] = [];
    for (let r = 0; r < REPEATS; r++) {
      // Alternate which goes first so drift in machine load hits both alike.
      if (r % 2 === 0) {
        p.push(await viaPolicy(server.url, prompts, 7 + r));
        d.push(await direct(server.url, prompts, 7 + r));
      } else {
        d.push(await direct(server.url, prompts, 7 + r));
        p.push(await viaPolicy(server.url, prompts, 7 + r));
      }
    }
    const rate = (runs: Run[]) => median(runs.map((x) => x.samples / x.seconds));
    const chars = (runs: Run[]) => median(runs.map((x) => x.chars / x.seconds));
    const policyRate = rate(p);
    const directRate = rate(d);
    const overhead = directRate / policyRate - 1;
    console.log(`HTTP policy:   ${policyRate.toFixed(1)} samples/s (${chars(p).toFixed(0)} tokens/s), median of ${REPEATS}`);
    console.log(`direct client: ${directRate.toFixed(1)} samples/s (${chars(d).toFixed(0)} tokens/s), median of ${REPEATS}`);
    console.log(`ratio policy/direct: ${(policyRate / directRate).toFixed(3)}; orchestrator overhead ${(overhead * 100).toFixed(1)} % (goal ≤ 5 %): ${overhead <= 0.05 ? 'ok' : 'OVER'}`);
    if (overhead > 0.05) process.exitCode = 1;
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
