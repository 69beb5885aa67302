import { describe, expect, it } from 'vitest';
import { blocksworld, type BlocksworldData } from '../../src/domains/blocksworld/index.js';
import { problemSeed } from '../../src/domains/index.js';
import { REFUSAL, parseResponse, preVerdict } from '../../src/domains/response.js';
import type { Problem } from '../../src/domains/types.js';
import { fuzzStrings } from '../helpers/fuzz.js';

/** An independent, deliberately plain validator (regex + maps) to compare verdicts against. */
function referenceValid(p: Problem<BlocksworldData>, steps: string[]): boolean {
  const pos = new Map<string, string>(); // block → 'table' | 'hand' | block below
  for (const t of p.data.towers) t.forEach((b, i) => pos.set(b, i === 0 ? 'table' : t[i - 1]!));
  if (p.data.holding) pos.set(p.data.holding, 'hand');
  const clear = (b: string) => pos.get(b) !== 'hand' && ![...pos.values()].includes(b);
  const hand = () => [...pos].find(([, w]) => w === 'hand')?.[0];
  for (const line of steps) {
    // An action may carry a `;` note after it.
    const action = line.replace(/\)[ \t]*;[\s\S]*$/, ')');
    const m = /^\([ \t]*([a-z0-9_-]+)((?:[ \t]+[a-z0-9_-]+)*)[ \t]*\)$/.exec(action.replace(/[A-Z]/g, (c) => c.toLowerCase()));
    if (!m) return false;
    const args = m[2]!.trim() === '' ? [] : m[2]!.trim().split(/[ \t]+/);
    if (!args.every((a) => pos.has(a))) return false;
    const [x, y] = args as [string, string];
    const op = m[1];
    if (op === 'pick-up' && args.length === 1 && clear(x) && pos.get(x) === 'table' && !hand()) pos.set(x, 'hand');
    else if (op === 'put-down' && args.length === 1 && hand() === x) pos.set(x, 'table');
    else if (op === 'stack' && args.length === 2 && hand() === x && clear(y)) pos.set(x, y);
    else if (op === 'unstack' && args.length === 2 && pos.get(x) === y && clear(x) && !hand()) pos.set(x, 'hand');
    else return false;
  }
  return p.data.goal.every((g) => {
    const [pred, a, b] = g.slice(1, -1).split(' ');
    if (pred === 'on') return pos.get(a!) === b;
    if (pred === 'ontable') return pos.get(a!) === 'table';
    if (pred === 'clear') return clear(a!);
    if (pred === 'handempty') return !hand();
    return hand() === a;
  });
}

describe('blocksworld verify under fuzzing', () => {
  it('grades 100,000 adversarial responses without throwing, in agreement with a reference validator', () => {
    const start = Date.now();
    const counts = { correct: 0, wrong: 0, idk: 0 };
    let total = 0;
    let verifyMs = 0;
    for (let k = 0; k < 10; k++) {
      const n = 2 + (k % 7);
      const problem = blocksworld.generate(problemSeed(31, k), n);
      const gold = blocksworld.goldCompletion(problem);
      const seeds = [gold, gold.toUpperCase(), `${gold}\n${REFUSAL}`, gold.replace(/\n/g, '\n\n')];
      for (const response of fuzzStrings(1000 + k, 10_000, seeds)) {
        const t0 = performance.now();
        const v = blocksworld.verify(problem, response);
        verifyMs += performance.now() - t0;
        total++;
        counts[v.verdict]++;
        // plain checks first: `expect` per string would dominate the run time
        const parsed = parseResponse(response);
        const pre = preVerdict(parsed);
        let ok = Number.isInteger(v.depth) && v.depth >= 0;
        if (pre !== null) ok &&= v.verdict === pre.verdict && v.depth === pre.depth && v.reason === pre.reason;
        else {
          const expected = parsed.answer === null && referenceValid(problem, parsed.steps) ? 'correct' : 'wrong';
          ok &&= v.verdict === expected && v.depth === parsed.steps.length && (v.verdict === 'correct' || !!v.reason);
        }
        if (!ok) expect({ response: response.slice(0, 500), v, pre }).toBeNull();
      }
    }
    expect(total).toBe(100_000);
    // the mix exercises every verdict
    expect(counts.correct).toBeGreaterThan(1000);
    expect(counts.wrong).toBeGreaterThan(10_000);
    expect(counts.idk).toBeGreaterThan(1000);
    expect(verifyMs).toBeLessThan(5_000);
    expect(Date.now() - start).toBeLessThan(30_000);
  });
});
