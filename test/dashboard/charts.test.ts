/** The page's chart specs, checked without a browser: what data each chart is given. */
import { describe, expect, it } from 'vitest';
import { calibrationRows, FINAL_LABEL, metricsSpec, rewardDepthRange, rewardSpec, roundOrder } from '../../src/dashboard/page/charts.js';
import { stagesOf, type MetricsView, type RoundView } from '../../src/dashboard/queries.js';
import { idkReward } from '../../src/loop/reward.js';

const m = (difficulty: number | null, idkRate: number): MetricsView => ({
  difficulty, total: 10, correct: 5, wrong: 5 - idkRate * 10, idk: idkRate * 10, accuracy: 0.5, precision: 0.6, idkRate, f: 0.7, passAtK: null, majAtK: null,
});

function round(key: string, phase: RoundView['phase'], stage: number | null, n: number, c1: number | null, f = 0.5): RoundView {
  return {
    id: n, key, phase, stage, round: n, c1, c2: c1 === null ? null : 0.5, trainLoss: 0.1, trainExamples: 10, f, finishedAt: '2025-01-01T00:00:00Z',
    overall: m(null, 0.2), byDifficulty: [m(1, 0.1), m(2, 0.3)], samples: { train: 40, val: 10 },
  };
}

const rounds = [
  round('init', 'init', null, 0, null),
  round('ei-r1', 'ei', null, 1, 2, 0.6),
  round('s1-r1', 'stage', 1, 1, 2, 0.62),
  round('s1-r2', 'stage', 1, 2, 2, 0.65),
  round('s2-r1', 'stage', 2, 1, 2.5, 0.61),
];

describe('dashboard charts', () => {
  it('orders rounds as they were trained, whatever order they come in', () => {
    expect(roundOrder([...rounds].reverse())).toEqual(['init', 'ei-r1', 's1-r1', 's1-r2', 's2-r1']);
  });

  it('plots one point per round and metric', () => {
    const values = (metricsSpec(rounds) as { data: { values: { round: string; series: string }[] } }).data.values;
    expect(values).toHaveLength(rounds.length * 4);
    expect(new Set(values.map((v) => v.series))).toEqual(new Set(['f', 'precision', 'accuracy', 'refusal rate']));
  });

  it('groups curriculum rounds into stages with their best f', () => {
    expect(stagesOf(rounds).map((s) => [s.label, s.c1, s.rounds, s.bestF])).toEqual([
      ['ei-r1 (baseline)', 2, 1, 0.6], ['stage 1', 2, 2, 0.65], ['stage 2', 2.5, 1, 0.61],
    ]);
  });

  it('draws R_idk through zero at c1, over a range that shows both plateaus', () => {
    const spec = rewardSpec(3, 0.8, 'latest') as { layer: { data: { values: { depth: number; reward: number }[] } }[] };
    const curve = spec.layer[2]!.data.values;
    expect(curve).toHaveLength(201);
    for (const p of curve) expect(p.reward).toBeCloseTo(idkReward(p.depth, 3, 0.8), 12);
    const max = rewardDepthRange(3, 0.8);
    expect(idkReward(max, 3, 0.8)).toBeGreaterThan(0.9);
    expect(curve[0]!.depth).toBe(0);
    expect(curve.at(-1)!.depth).toBeCloseTo(max, 9);
  });

  it('puts one calibration cell per round and difficulty, the held-out test last', () => {
    const final = { ...round('final', 'final', null, 0, 2), byDifficulty: [m(1, 0), m(2, 0.5)] };
    const rows = calibrationRows(rounds, final, 'idkRate');
    expect(rows).toHaveLength((rounds.length + 1) * 2);
    expect(rows.slice(-2)).toEqual([
      { round: FINAL_LABEL, difficulty: 1, value: 0, problems: 10 },
      { round: FINAL_LABEL, difficulty: 2, value: 0.5, problems: 10 },
    ]);
  });
});
