/** Real run directories made at test time: the run loop on a toy domain (count to n) with a
 * simulated model, as in test/loop/run.test.ts, so the dashboard reads what a run really writes. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Domain } from '../../src/domains/types.js';
import { counting } from '../helpers/counting.js';
import { simPolicy, simTrainer } from '../helpers/sim-model.js';
import { RunStore, type MetricsRow } from '../../src/store/run-store.js';
import { runMethod } from '../../src/loop/run.js';
import { resolveConfig, type Method, type RunConfig } from '../../src/loop/config.js';
import { silentProgress } from '../../src/loop/progress.js';

export const DIFFICULTIES = [1, 2, 3, 4, 5, 6, 7, 8];

export function fixtureConfig(method: Method): RunConfig {
  return resolveConfig('demo', {
    domain: 'blocksworld', // any registered name: the fixture passes its own domain object
    method,
    problems: { difficulties: DIFFICULTIES, train: 24, val: 16, test: 16 },
    ei: { n: 4, rounds: 2 },
    curriculum: { maxStages: 3, roundsPerStage: 2 },
  });
}

/** A finished run of `method` in `dir` (config.json + run.db + checkpoints). */
export async function makeRun(dir: string, method: Method): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const config = fixtureConfig(method);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const store = RunStore.open(join(dir, 'run.db'));
  try {
    await runMethod(dir, config, store, { domain: counting as Domain, trainer: simTrainer({ progressSteps: 20 }), openPolicy: simPolicy(0.5), progress: silentProgress });
  } finally {
    store.close();
  }
}

/** Records one more curriculum round, as the run loop would while the page is open. */
export function appendRound(dir: string, stage: number, c1: number, val: { precision: number; idkRate: number }, sampleCount?: number): number {
  const store = RunStore.open(join(dir, 'run.db'));
  try {
    const total = 16;
    const idk = Math.round(val.idkRate * total);
    const correct = Math.round(val.precision * (total - idk));
    const m = (difficulty: number | null): MetricsRow => ({
      split: 'val', difficulty, total, correct, wrong: total - idk - correct, idk,
      accuracy: correct / total, precision: val.precision, idkRate: val.idkRate,
      f: 0.8 * val.precision + 0.2 * (1 - val.idkRate), passAtK: null, majAtK: null,
    });
    const problems = store.problems('train');
    const samples = Array.from({ length: sampleCount ?? problems.length }, (_, i) => ({
      problemId: problems[i % problems.length]!.id, split: 'train' as const, index: i, response: `1\nSorry, the problem is too difficult. I cannot solve it.`,
      verdict: 'idk' as const, depth: 1, reason: null, reward: -0.5 + (i % 100) / 100,
    }));
    return store.insertRound(
      { phase: 'stage', stage, round: 1, c1, c2: 0.6, checkpoint: null, trainLoss: 0.05, trainExamples: 10, f: m(null).f },
      samples, [m(null), ...DIFFICULTIES.map((d) => m(d))], [{ step: 1, loss: 0.3 }, { step: 2, loss: 0.1 }],
    );
  } finally {
    store.close();
  }
}


/** What the run database holds, read with the store (the writer's own view). */
export function storeView(dir: string): { rounds: ReturnType<RunStore['rounds']>; verdictCount: (roundId: number, split: 'train' | 'val' | 'test', verdict?: string) => number } {
  const store = RunStore.open(join(dir, 'run.db'));
  try {
    const rounds = store.rounds();
    const samples = new Map(rounds.flatMap((r) => (['train', 'val', 'test'] as const).map((s) => [`${r.id}/${s}`, store.samples(r.id, s)] as const)));
    return {
      rounds,
      verdictCount: (roundId, split, verdict) => (samples.get(`${roundId}/${split}`) ?? []).filter((s) => verdict === undefined || s.verdict === verdict).length,
    };
  } finally {
    store.close();
  }
}
