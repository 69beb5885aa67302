import { describe, expect, it } from 'vitest';
import { getDomain } from '../../src/domains/index.js';
import { makeSplits } from '../../src/loop/splits.js';

const blocksworld = getDomain('blocksworld');
const prompts = (ps: { prompt: string }[]) => new Set(ps.map((p) => p.prompt));

describe('makeSplits', () => {
  it('keeps the splits disjoint by prompt, fills the requested sizes and is reproducible by seed', () => {
    const sizes = { train: 300, val: 40, test: 60 };
    const s = makeSplits(getDomain('countdown'), 7, [3, 4], sizes);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([300, 40, 60]);
    const [tr, va, te] = [prompts(s.train), prompts(s.val), prompts(s.test)];
    expect(tr.size + va.size + te.size).toBe(400);
    for (const p of te) expect(tr.has(p) || va.has(p)).toBe(false);
    for (const p of va) expect(tr.has(p)).toBe(false);
    for (const split of [s.train, s.test]) expect(split.filter((p) => p.difficulty === 3).length).toBe(split.length / 2);
    const again = makeSplits(getDomain('countdown'), 7, [3, 4], sizes);
    expect(again.test.map((p) => p.id)).toEqual(s.test.map((p) => p.id));
    expect(makeSplits(getDomain('countdown'), 8, [3, 4], sizes).test.map((p) => p.id)).not.toEqual(s.test.map((p) => p.id));
  });

  it('gives a grade with few distinct problems to training as well as to the held-out set', () => {
    // 3-block Blocksworld has 132 distinct problems: a held-out set drawn first would take them all.
    const s = makeSplits(blocksworld, 1, [3, 4], { train: 1000, val: 100, test: 200 });
    const three = (ps: typeof s.train) => ps.filter((p) => p.difficulty === 3).length;
    expect(three(s.test)).toBeGreaterThan(5);
    expect(three(s.train)).toBeGreaterThan(80);
    expect(three(s.train) + three(s.val) + three(s.test)).toBeLessThanOrEqual(132);
    expect(s.test.filter((p) => p.difficulty === 4)).toHaveLength(100);
  });

  it('gives the training share of a grade that runs out to the other grades, and keeps held out a share of it however large training is', () => {
    const s = makeSplits(blocksworld, 1, [3, 5], { train: 3000, val: 20, test: 40 });
    const three = (ps: typeof s.train) => ps.filter((p) => p.difficulty === 3).length;
    expect(s.train).toHaveLength(3000);
    expect(three(s.train)).toBeLessThan(132);
    expect(s.train.length - three(s.train)).toBeGreaterThan(2868);
    // Routed as if training were 9 × (val + test): ~7% of the 132 go to test, not 40/3060 of them.
    expect(three(s.test)).toBeGreaterThanOrEqual(4);
    expect(s.test.filter((p) => p.difficulty === 5)).toHaveLength(20);
    const all = [...s.train, ...s.val, ...s.test].map((p) => p.prompt);
    expect(new Set(all).size).toBe(all.length);
  });
});
