import { expect, it } from 'vitest';
import { logic } from '../../src/domains/logic/index.js';
import { refusalCompletion } from '../../src/domains/response.js';
import { fuzzStrings } from '../helpers/fuzz.js';

it('verify returns a verdict for 100,000 adversarial strings, quickly', () => {
  const problems = Array.from({ length: 25 }, (_, i) => logic.generate(500 + i, 1 + (i % 6)));
  const perProblem = 4000;
  const counts = { correct: 0, wrong: 0, idk: 0 };
  const start = performance.now();
  problems.forEach((p, i) => {
    const gold = logic.goldCompletion(p);
    const valid = [gold, refusalCompletion(p.goldSteps, 1), `${gold}\n${gold}`];
    for (const s of fuzzStrings(9000 + i, perProblem, valid)) {
      const v = logic.verify(p, s);
      counts[v.verdict]++;
      if (!['correct', 'wrong', 'idk'].includes(v.verdict) || !Number.isInteger(v.depth) || v.depth < 0) {
        throw new Error(`bad verdict ${JSON.stringify(v)} for ${JSON.stringify(s.slice(0, 200))}`);
      }
      if (v.verdict === 'wrong' && (typeof v.reason !== 'string' || v.reason.length > 300)) {
        throw new Error(`bad reason ${JSON.stringify(v)}`);
      }
    }
  });
  const seconds = (performance.now() - start) / 1000;
  expect(counts.correct + counts.wrong + counts.idk).toBe(problems.length * perProblem);
  expect(counts.wrong).toBeGreaterThan(counts.correct);
  expect(seconds).toBeLessThan(10);
}, 30_000);
