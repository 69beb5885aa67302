import { describe, expect, it } from 'vitest';
import { idkReward, reward } from '../../src/loop/reward.js';
import { fStandardError, objective, pairedFDifference, summarize, passAtK, majorityCorrect } from '../../src/loop/metrics.js';
import { initCurriculum, nextC1, stageConverged, bestIndex } from '../../src/loop/curriculum.js';
import { resampleIndices } from '../../src/loop/resample.js';
import { createRng } from '../../src/util/random.js';

describe('reward', () => {
  it('R_idk is 0 at depth c1 and 0.5 one unit past it when c2 = ln 3', () => {
    expect(idkReward(2, 2, 1)).toBe(0);
    expect(idkReward(3, 2, Math.log(3))).toBeCloseTo(0.5, 12);
    expect(idkReward(1, 2, Math.log(3))).toBeCloseTo(-0.5, 12);
  });
  it('R_idk stays inside (−1, 1) and rises with depth', () => {
    const rs = [0, 1, 2, 5, 10, 40].map((d) => idkReward(d, 4, 0.8));
    for (let i = 1; i < rs.length; i++) expect(rs[i]!).toBeGreaterThan(rs[i - 1]!);
    expect(rs[0]!).toBeGreaterThan(-1);
    expect(rs.at(-1)!).toBeLessThanOrEqual(1);
  });
  it('correct +1, wrong −1, idk shaped or treated as wrong', () => {
    const shaping = { kind: 'curriculum', c1: 2, c2: Math.log(3) } as const;
    expect(reward({ verdict: 'correct', depth: 4 }, shaping)).toBe(1);
    expect(reward({ verdict: 'wrong', depth: 4 }, shaping)).toBe(-1);
    expect(reward({ verdict: 'idk', depth: 3 }, shaping)).toBeCloseTo(0.5, 12);
    expect(reward({ verdict: 'idk', depth: 3 }, { kind: 'wrong' })).toBe(-1);
  });
});

describe('metrics', () => {
  it('f = (1 − λ)·precision + λ·(1 − idkRate)', () => {
    expect(objective(0.9, 0.25, 0.2)).toBeCloseTo(0.87, 12);
    expect(objective(0.9, 0.25, 0)).toBeCloseTo(0.9, 12);
  });
  it('summarize: 6 correct, 2 wrong, 2 idk', () => {
    const m = summarize([...Array(6).fill('correct'), 'wrong', 'wrong', 'idk', 'idk']);
    expect(m).toMatchObject({ total: 10, correct: 6, wrong: 2, idk: 2 });
    expect(m.accuracy).toBeCloseTo(0.6, 12);
    expect(m.precision).toBeCloseTo(0.75, 12);
    expect(m.idkRate).toBeCloseTo(0.2, 12);
    expect(m.f).toBeCloseTo(0.76, 12);
  });
  it('all refusals give precision 0, not NaN', () => {
    const m = summarize(['idk', 'idk']);
    expect(m.precision).toBe(0);
    expect(m.f).toBeCloseTo(0, 12);
  });
  it('standard error of f: hand-computed, and the spread of f over simulated draws', () => {
    // pc .6, pw .2, answered .8: ∂f/∂pc = .8·.2/.64 + .2 = .45, ∂f/∂pw = −.8·.6/.64 + .2 = −.55;
    // variance (.6·.45² + .2·.55² − (.6·.45 − .2·.55)²) / 100 = .1564 / 100.
    const se = fStandardError({ total: 100, correct: 60, wrong: 20 }, 0.2);
    expect(se).toBeCloseTo(Math.sqrt(0.001564), 6);
    const rng = createRng(11);
    const fs = Array.from({ length: 4000 }, () => {
      const verdicts = Array.from({ length: 100 }, () => { const u = rng.next(); return u < 0.6 ? 'correct' : u < 0.8 ? 'wrong' : 'idk'; });
      return summarize(verdicts as ('correct' | 'wrong' | 'idk')[], 0.2).f;
    });
    const mean = fs.reduce((a, b) => a + b, 0) / fs.length;
    const sd = Math.sqrt(fs.reduce((a, b) => a + (b - mean) ** 2, 0) / (fs.length - 1));
    expect(sd / se).toBeGreaterThan(0.93);
    expect(sd / se).toBeLessThan(1.07);
    expect(fStandardError({ total: 5, correct: 0, wrong: 0 })).toBeNaN();
  });
  it('the paired difference of f sees what two separate intervals cannot', () => {
    type V = 'correct' | 'wrong' | 'idk';
    const fill = (n: number, v: V): V[] => Array(n).fill(v);
    // b: 60 right, 40 wrong. a: the same, but refuses 12 of b's wrong answers.
    const b = [...fill(60, 'correct'), ...fill(40, 'wrong')];
    const a = [...fill(60, 'correct'), ...fill(12, 'idk'), ...fill(28, 'wrong')];
    const d = pairedFDifference(a, b, 0.2);
    // f(a) = .8·60/88 + .2·.88, f(b) = .8·.6 + .2 = .68
    expect(d.diff).toBeCloseTo(0.8 * 60 / 88 + 0.2 * 0.88 - 0.68, 12);
    expect(d.low).toBeGreaterThan(0);
    expect(d.high).toBeGreaterThan(d.diff);
    expect(d.aAbove).toBe(1);
    // Separately, the two 95% intervals overlap: unpaired, this gap would not be shown.
    const half = (m: V[]) => 1.96 * fStandardError(summarize(m, 0.2), 0.2);
    expect(d.diff).toBeLessThan(half(a) + half(b));
    // Same draws for the same seed; a method against itself differs by exactly 0.
    expect(pairedFDifference(a, b, 0.2)).toEqual(d);
    expect(pairedFDifference(b, b, 0.2)).toEqual({ diff: 0, low: 0, high: 0, aAbove: 0 });
    // Swapping the methods mirrors the interval.
    const r = pairedFDifference(b, a, 0.2);
    expect(r.diff).toBeCloseTo(-d.diff, 12);
    expect(() => pairedFDifference(a, b.slice(1))).toThrow(/equal, non-empty/);
  });
  it('pass@k matches the closed form', () => {
    expect(passAtK(5, 2, 2)).toBeCloseTo(1 - 3 / 10, 12);
    expect(passAtK(5, 0, 3)).toBe(0);
    expect(passAtK(5, 4, 2)).toBe(1);
    expect(passAtK(16, 1, 1)).toBeCloseTo(1 / 16, 12);
  });
  it('maj@k picks the most frequent answer, ignores refusals', () => {
    expect(majorityCorrect(['3', '4', '4', null, null], [true, false, false, false, false], 5)).toBe(false);
    expect(majorityCorrect(['3', '4', '3', null], [true, false, true, false], 4)).toBe(true);
    expect(majorityCorrect([null, null], [false, false], 2)).toBe(false);
  });
});

describe('curriculum', () => {
  it('initialises c1, c2 and step from IDK depths (hand-computed)', () => {
    const a = initCurriculum([2, 4]); // mean 3, std 1
    expect(a.step).toBeCloseTo(0.2, 12);
    expect(a.c1).toBeCloseTo(3.2, 12);
    expect(a.c2).toBeCloseTo(Math.log(10) / 4, 12);
    const b = initCurriculum([1, 5, 9]); // mean 5, std sqrt(32/3) ≈ 3.266 → step capped at 0.5
    expect(b.step).toBe(0.5);
    expect(b.c1).toBeCloseTo(5.5, 12);
    expect(b.c2).toBeCloseTo(Math.log(10) / Math.sqrt(32 / 3) / 4, 12);
  });
  it('falls back to std 1 when all refusals share one depth', () => {
    const c = initCurriculum([3, 3, 3]);
    expect(c.c1).toBeCloseTo(3.2, 12);
    expect(Number.isFinite(c.c2)).toBe(true);
  });
  it('hill climbs: up while f improves, reverses on a worse stage, stops at a visited worse c1', () => {
    // First stage improved over the EI baseline → move up.
    expect(nextC1([{ c1: 3, f: 0.8 }], 0.7, 0.5)).toBe(3.5);
    // First stage worse than the baseline → move down.
    expect(nextC1([{ c1: 3, f: 0.6 }], 0.7, 0.5)).toBe(2.5);
    // Improved twice → keep climbing.
    expect(nextC1([{ c1: 3, f: 0.8 }, { c1: 3.5, f: 0.85 }], 0.7, 0.5)).toBe(4);
    // 3.5 was worse than 3 → reverse; 3 is the best, skip past it to 2.5.
    expect(nextC1([{ c1: 3, f: 0.8 }, { c1: 3.5, f: 0.75 }], 0.7, 0.5)).toBe(2.5);
    // 2.5 worse too → reverse toward 3 (best, skip) then 3.5 (visited, worse) → stop.
    expect(nextC1([{ c1: 3, f: 0.8 }, { c1: 3.5, f: 0.75 }, { c1: 2.5, f: 0.7 }], 0.7, 0.5)).toBeNull();
  });
  it('revisits compare equal despite float drift', () => {
    const s = [{ c1: 0.1 + 0.2, f: 0.9 }, { c1: 0.4, f: 0.8 }, { c1: 0.2, f: 0.7 }];
    expect(nextC1(s, 0.5, 0.1)).toBeNull();
  });
  it('a stage converges when precision and idkRate both move < 0.003', () => {
    expect(stageConverged({ precision: 0.9, idkRate: 0.2, f: 0 }, { precision: 0.902, idkRate: 0.198, f: 0 })).toBe(true);
    expect(stageConverged({ precision: 0.9, idkRate: 0.2, f: 0 }, { precision: 0.904, idkRate: 0.2, f: 0 })).toBe(false);
    expect(stageConverged({ precision: 0.9, idkRate: 0.2, f: 0 }, { precision: 0.9, idkRate: 0.21, f: 0 })).toBe(false);
  });
  it('best round is the highest f, first on ties', () => {
    expect(bestIndex([{ f: 0.5 }, { f: 0.7 }, { f: 0.7 }])).toBe(1);
  });
});

describe('resampling', () => {
  it('keeps one copy of every non-wrong sample plus n draws, never a wrong one', () => {
    const rewards = [1, -1, 0.2, -0.9];
    const picked = resampleIndices(rewards, 16, 0.5, createRng(1));
    expect(picked).not.toContain(1);
    for (const i of [0, 2, 3]) expect(picked).toContain(i);
    // 3 single copies + the draws that did not land on the wrong sample.
    expect(picked.length).toBeGreaterThan(3);
    expect(picked.length).toBeLessThanOrEqual(3 + 16);
  });
  it('draws ∝ exp(reward / T)', () => {
    const rewards = [1, 0];
    const T = 0.5;
    const n = 200_000;
    const picked = resampleIndices(rewards, n, T, createRng(7));
    const zeros = picked.filter((i) => i === 0).length - 1;
    const expected = Math.exp(1 / T) / (Math.exp(1 / T) + 1);
    expect(zeros / n).toBeCloseTo(expected, 2);
  });
  it('rejects a non-positive temperature', () => {
    expect(() => resampleIndices([1], 4, 0, createRng(1))).toThrow(/T must be > 0/);
  });
});
