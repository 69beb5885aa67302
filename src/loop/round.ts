/** The pieces of one expert-iteration round: sample → verify → reward → resample (a dataset), and
 * evaluation of a policy on a split (metrics overall and per difficulty). */
import type { Domain, Problem, Verdict } from '../domains/types.js';
import { parseResponse } from '../domains/response.js';
import type { Example, Policy } from '../policies/types.js';
import type { MetricsRow, SampleRow, Split } from '../store/run-store.js';
import { createRng } from '../util/random.js';
import { reward, type IdkShaping } from './reward.js';
import { resampleIndices } from './resample.js';
import { summarize, passAtK, majorityCorrect, DEFAULT_LAMBDA } from './metrics.js';
import type { Progress } from './progress.js';

export interface SampleSpec {
  n: number;
  temperature: number;
  maxTokens: number;
  seed: number;
}

/** Samples `n` responses per problem and grades them. */
export async function sampleAndVerify(
  policy: Policy, domain: Domain, problems: readonly Problem[], split: Split, spec: SampleSpec, progress: Progress, label: string,
): Promise<{ samples: SampleRow[]; verdicts: Verdict[][] }> {
  const task = progress.task(label, problems.length);
  const responses = await policy.sample(problems.map((p) => p.prompt), { ...spec, onProgress: (done) => task.update(done) });
  const samples: SampleRow[] = [];
  const verdicts: Verdict[][] = [];
  problems.forEach((problem, i) => {
    const row = responses[i] ?? [];
    verdicts.push(
      row.map((response, j) => {
        const v = domain.verify(problem, response);
        samples.push({ problemId: problem.id, split, index: j, response, verdict: v.verdict, depth: v.depth, reason: v.reason ?? null, reward: null });
        return v;
      }),
    );
  });
  const m = summarize(verdicts.flat().map((v) => v.verdict));
  task.stop(`acc ${pct(m.accuracy)} prec ${pct(m.precision)} idk ${pct(m.idkRate)}`);
  return { samples, verdicts };
}

/** Rewards every sample, resamples ∝ exp(reward / T) per problem (plus one copy of each, wrong ones
 * dropped) and returns the training set. Fills `reward` on the sample rows. */
export function buildDataset(
  problems: readonly Problem[], samples: SampleRow[], verdicts: readonly Verdict[][], shaping: IdkShaping, n: number, T: number, seed: number,
): Example[] {
  const rng = createRng(seed);
  const examples: Example[] = [];
  let k = 0;
  problems.forEach((problem, i) => {
    const vs = verdicts[i]!;
    const rewards = vs.map((v) => reward(v, shaping));
    const rows = samples.slice(k, k + vs.length);
    rows.forEach((row, j) => (row.reward = rewards[j]!));
    k += vs.length;
    if (vs.length === 0) return;
    for (const idx of resampleIndices(rewards, n, T, rng)) examples.push({ prompt: problem.prompt, completion: rows[idx]!.response });
  });
  return examples;
}

export interface Evaluation {
  samples: SampleRow[];
  metrics: MetricsRow[];
  /** Overall metrics of the greedy responses. */
  overall: MetricsRow;
}

/** Greedy evaluation (one response per problem) and, with k > 0, pass@k / maj@k from k samples at
 * temperature 1. Metrics overall (difficulty null) and per difficulty. */
export async function evaluate(
  policy: Policy, domain: Domain, problems: readonly Problem[], split: Split,
  options: { maxTokens: number; k: number; seed: number; lambda?: number }, progress: Progress,
): Promise<Evaluation> {
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  const greedy = await sampleAndVerify(policy, domain, problems, split, { n: 1, temperature: 0, maxTokens: options.maxTokens, seed: options.seed }, progress, `eval ${split}`);
  let sampled: { verdicts: Verdict[][]; samples: SampleRow[] } | null = null;
  if (options.k > 0) {
    sampled = await sampleAndVerify(policy, domain, problems, split, { n: options.k, temperature: 1, maxTokens: options.maxTokens, seed: options.seed + 1 }, progress, `eval ${split} pass@${options.k}`);
  }
  const groups = new Map<number | null, number[]>([[null, problems.map((_, i) => i)]]);
  problems.forEach((p, i) => {
    if (!groups.has(p.difficulty)) groups.set(p.difficulty, []);
    groups.get(p.difficulty)!.push(i);
  });
  const metrics: MetricsRow[] = [];
  for (const [difficulty, idx] of [...groups].sort((a, b) => (a[0] ?? -1) - (b[0] ?? -1))) {
    const m = summarize(idx.map((i) => greedy.verdicts[i]![0]?.verdict ?? 'wrong'), lambda);
    let pass: number | null = null;
    let maj: number | null = null;
    if (sampled) {
      const { verdicts, samples } = sampled;
      const k = options.k;
      pass = mean(idx.map((i) => passAtK(k, verdicts[i]!.filter((v) => v.verdict === 'correct').length, k)));
      maj = mean(idx.map((i) => {
        const vs = verdicts[i]!;
        // Correct responses vote together (two valid plans are the same answer); a wrong one votes
        // for its final answer, or for its steps where the domain has no answer line.
        const keys = vs.map((v, j) => {
          if (v.verdict === 'idk') return null;
          if (v.verdict === 'correct') return '\u2713';
          const parsed = parseResponse(samples[i * k + j]!.response);
          return 'x:' + (parsed.answer ?? parsed.steps.join('\n'));
        });
        return majorityCorrect(keys, vs.map((v) => v.verdict === 'correct'), k) ? 1 : 0;
      }));
    }
    metrics.push({ ...m, split, difficulty, passAtK: pass, majAtK: maj });
  }
  return { samples: greedy.samples, metrics, overall: metrics[0]! };
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
