import { describe, expect, it } from 'vitest';
import { arithmetic, importGsm8k, type ArithmeticData } from '../../src/domains/arithmetic/index.js';
import { refusalCompletion } from '../../src/domains/response.js';
import type { Problem, Verdict } from '../../src/domains/types.js';
import { fuzzStrings } from '../helpers/fuzz.js';

// A plain check: calling `expect` 100,000 times would dominate the test's time.
const wellFormed = (v: Verdict): boolean =>
  ['correct', 'wrong', 'idk'].includes(v.verdict) && Number.isInteger(v.depth) && v.depth >= 0 && (v.verdict !== 'wrong' || typeof v.reason === 'string');

/** Grades every string against the problems in turn; returns the slowest single verdict in ms. */
function fuzz(problems: Problem<ArithmeticData>[], seed: number, count: number, extra: string[]): number {
  const valid = problems.flatMap((p) => [arithmetic.goldCompletion(p), refusalCompletion(p.goldSteps, 1)]);
  let slowest = 0;
  let i = 0;
  const grade = (s: string): void => {
    const p = problems[i++ % problems.length]!;
    const t0 = performance.now();
    const v = arithmetic.verify(p, s);
    slowest = Math.max(slowest, performance.now() - t0);
    if (!wellFormed(v)) expect.fail(`malformed verdict ${JSON.stringify(v)} for ${JSON.stringify(s.slice(0, 200))}`);
  };
  for (const s of extra) grade(s);
  for (const s of fuzzStrings(seed, count, valid)) grade(s);
  return slowest;
}

const adversarial = [
  '9'.repeat(200) + '*' + '9'.repeat(200) + '=1\n#### 1',
  '99999999999999999999999999999*99999999999999999999999999999=1\n#### 1',
  '1+1=2\n'.repeat(20_000) + '#### 2',
  '<<'.repeat(30_000),
  '<<' + '('.repeat(300) + '1' + ')'.repeat(300) + '=1>>\n#### 1',
  '<<' + '9'.repeat(250) + '/' + '7'.repeat(3) + '=1>>\n#### 1',
  '<<' + '9,999*'.repeat(40) + '1=1>>\n#### 1',
  '1' + '=1'.repeat(30_000) + '\n#### 1',
  ('(1+'.repeat(60) + '1' + ')'.repeat(60) + '=61\n').repeat(100) + '#### 61',
  '-'.repeat(60_000) + '1=1\n#### 1',
  '#### ' + '1,000'.repeat(10_000),
];

describe('arithmetic: fuzzing the verifier', () => {
  it('grades 100,000 adversarial responses to generated problems without throwing, quickly', () => {
    const { min, max } = arithmetic.difficulty;
    const problems: Problem<ArithmeticData>[] = [];
    for (let d = min; d <= max; d++) for (let s = 0; s < 3; s++) problems.push(arithmetic.generate(s, d));
    const t0 = performance.now();
    const slowest = fuzz(problems, 1, 100_000, adversarial);
    expect(slowest).toBeLessThan(250);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('grades 100,000 adversarial responses to GSM8K problems without throwing, quickly', () => {
    const row = (q: string, a: string) => JSON.stringify({ question: q, answer: a });
    const problems: Problem<ArithmeticData>[] = importGsm8k(
      [
        row('q1', 'He has 3*4 = <<3*4=12>>12 apples.\nThen 12/5 = <<12/5=2.4>>2.4 each.\n#### 12'),
        row('q2', '1,200+300=1,500\nHalf is <<1500/2=750>>750.\n#### 750'),
      ].join('\n'),
    );
    const t0 = performance.now();
    const slowest = fuzz(problems, 2, 100_000, adversarial);
    expect(slowest).toBeLessThan(250);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
