import { describe, expect, it } from 'vitest';
import { countdown } from '../../src/domains/countdown/index.js';
import { refusalCompletion } from '../../src/domains/response.js';
import { fuzzStrings } from '../helpers/fuzz.js';

const adversarial = [
  '9'.repeat(200) + '*' + '9'.repeat(200) + '=1\n#### 1',
  '99999999999999999999999999999*99999999999999999999999999999=1\n#### 1',
  '1+1=2\n'.repeat(20_000) + '#### 2',
  '100/0=0\n#### 100',
  '-'.repeat(60_000) + '1=1\n#### 1',
  '#### ' + '1,000'.repeat(10_000),
];

describe('countdown: fuzzing the verifier', () => {
  it('grades 100,000 adversarial responses without throwing, quickly', () => {
    const { min, max } = countdown.difficulty;
    const problems = [];
    for (let d = min; d <= max; d++) for (let s = 0; s < 4; s++) problems.push(countdown.generate(s, d));
    const valid = problems.flatMap((p) => [countdown.goldCompletion(p), refusalCompletion(p.goldSteps, 1)]);
    let slowest = 0;
    let i = 0;
    const t0 = performance.now();
    for (const s of [...adversarial, ...fuzzStrings(3, 100_000, valid)]) {
      const p = problems[i++ % problems.length]!;
      const t1 = performance.now();
      const v = countdown.verify(p, s);
      slowest = Math.max(slowest, performance.now() - t1);
      // A plain check: calling `expect` 100,000 times would dominate the test's time.
      const ok = ['correct', 'wrong', 'idk'].includes(v.verdict) && Number.isInteger(v.depth) && v.depth >= 0 && (v.verdict !== 'wrong' || typeof v.reason === 'string');
      if (!ok) expect.fail(`malformed verdict ${JSON.stringify(v)} for ${JSON.stringify(s.slice(0, 200))}`);
    }
    expect(slowest).toBeLessThan(250);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
