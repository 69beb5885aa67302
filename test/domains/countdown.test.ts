import { describe, expect, it } from 'vitest';
import { countdown, solve, type CountdownData } from '../../src/domains/countdown/index.js';
import { moves } from '../../src/domains/countdown/solve.js';
import { parseStep } from '../../src/domains/arithmetic/step.js';
import { REFUSAL } from '../../src/domains/response.js';
import { createRng } from '../../src/util/random.js';
import type { Problem } from '../../src/domains/types.js';

function problem(numbers: number[], target: number): Problem<CountdownData> {
  return { id: 't', domain: 'countdown', difficulty: numbers.length, prompt: '', goldSteps: [], goldAnswer: `${target}`, data: { numbers, target } };
}

// 25*4+3 = 103; the 7 is a distractor.
const P = problem([3, 7, 25, 4], 103);
const grade = (response: string, p = P) => countdown.verify(p, response);

describe('countdown: hand-written responses', () => {
  it.each([
    '25*4=100\n100+3=103\n#### 103',
    '4*25=100\n3+100=103\n#### 103',
    '4 × 25 = 100\n\n100 + 3 = 103\n####103',
    // Text after the final answer is not read.
    '25*4=100\n100+3=103\n#### 103\nDone.',
  ])('accepts %j', (response) => expect(grade(response).verdict).toBe('correct'));

  it('accepts a solution through an intermediate result and equal given numbers', () => {
    // (7-3)*25 = 100 uses the 3, so 103 needs another 3.
    const q = problem([3, 7, 25, 3], 103);
    expect(grade('7-3=4\n4*25=100\n100+3=103\n#### 103', q)).toEqual({ verdict: 'correct', depth: 3 });
    expect(grade('3+3=6\n6*25=150\n#### 150', problem([3, 3, 25], 150)).verdict).toBe('correct');
  });

  it.each([
    ['#### 103', /no steps/],
    ['25*4=100\n100+3=103', /no final answer/],
    ['25*4=100\n100+3=103\n#### 100', /final answer 100 is not the target 103/],
    ['25*4=100\n#### 103', /last step gives 100, not the target 103/],
    ['25*4=100\n100+3=103\n103-7=96\n#### 103', /last step gives 96/],
    ['25*5=125\n125-22=103\n#### 103', /step 1: 5 is not available/],
    ['25*4=100\n100+4=104\n104-1=103\n#### 103', /step 2: 4 is not available/],
    ['25*4=100\n100+100=200\n#### 103', /step 2: 100 is not available twice/],
    ['3+3=6\n#### 103', /step 1: 3 is not available twice/],
    ['25*4=101\n101+2=103\n#### 103', /step 1: 25\*4=101 is false \(25\*4 is 100\)/],
    ['25*4=100\n100+3=104\n#### 103', /step 2: 100\+3=104 is false/],
    ['25/0=0\n#### 103', /step 1: 25\/0=0: division by zero/],
    ['25/4=6\n#### 103', /step 1: 25\/4=6: division is not exact/],
    ['3-7=-4\n#### 103', /step 1: 3-7=-4: results must be positive/],
    ['7-7=0\n#### 103', /step 1: 7-7=0: results must be positive/],
    ['We multiply.\n25*4=100\n100+3=103\n#### 103', /step 1: 'We multiply\.' is not of the form/],
    ['25*4+3=103\n#### 103', /step 1: .* not of the form/],
    ['(25*4)=100\n100+3=103\n#### 103', /step 1: .* not of the form/],
    ['25*4=100\n100+3=103\n#### 1.03e2', /not an integer/],
    ['25*4=100\n100+3=103\n#### 103!', /not an integer/],
    ['25*4=100\n100+3=103\n#### ' + '1'.repeat(100), /not an integer/],
    ['25*4=100\n100+3=1' + '0'.repeat(40) + '3\n#### 103', /step 2: .* not of the form/],
  ])('rejects %j', (response, reason) => {
    const v = grade(response);
    expect(v.verdict).toBe('wrong');
    expect(v.reason).toMatch(reason);
  });

  it('grades refusals as idk with the depth reached, and hedges as wrong', () => {
    expect(grade(REFUSAL)).toEqual({ verdict: 'idk', depth: 0 });
    expect(grade(`25*4=100\n${REFUSAL}`)).toEqual({ verdict: 'idk', depth: 1 });
    expect(grade('25*4=100\n100-7=93\nSorry, I cannot solve it.')).toEqual({ verdict: 'idk', depth: 2 });
    expect(grade(`25*4=100\n100+3=103\n#### 103\n${REFUSAL}`).reason).toMatch(/hedge/);
    expect(grade(`${REFUSAL}\n#### 103`).verdict).toBe('wrong');
  });
});

/** Every solution of up to `steps` steps, tried exhaustively: the reference for the solver. */
function reachable(pool: number[], target: number, steps: number): boolean {
  if (pool.includes(target)) return true;
  if (steps === 0) return false;
  for (let i = 0; i < pool.length; i++) {
    for (let j = i + 1; j < pool.length; j++) {
      const rest = pool.filter((_, k) => k !== i && k !== j);
      for (const m of moves(pool[i]!, pool[j]!)) if (reachable([...rest, m.c], target, steps - 1)) return true;
    }
  }
  return false;
}

describe('countdown: solver', () => {
  it('finds a shortest solution whenever one exists', () => {
    const rng = createRng(7);
    for (let t = 0; t < 300; t++) {
      const numbers = Array.from({ length: rng.int(2, 4) }, () => rng.int(1, 12));
      const target = rng.int(1, 60);
      const solution = solve(numbers, target);
      let shortest: number | null = null;
      for (let k = 0; k < numbers.length && shortest === null; k++) if (reachable(numbers, target, k)) shortest = k;
      expect(solution?.length ?? null).toBe(shortest);
      if (solution !== null && solution.length > 0) {
        const completion = [...solution.map((s) => `${s.a}${s.op}${s.b}=${s.c}`), `#### ${target}`].join('\n');
        expect(countdown.verify(problem(numbers, target), completion).verdict).toBe('correct');
      }
    }
  });

  it('says when there is no solution', () => {
    expect(solve([2, 2], 7)).toBeNull();
    expect(solve([1, 1, 1], 5)).toBeNull();
    expect(solve([5, 9], 9)).toEqual([]);
  });
});

describe('countdown: generation', () => {
  const { min, max } = countdown.difficulty;

  it('is deterministic for (seed, difficulty) and varies with the seed', () => {
    for (let d = min; d <= max; d++) {
      expect(countdown.generate(99, d)).toEqual(countdown.generate(99, d));
      const prompts = new Set(Array.from({ length: 50 }, (_, i) => countdown.generate(i, d).prompt));
      expect(prompts.size).toBeGreaterThan(d === 2 ? 25 : 45);
    }
  });

  it('gold completions of 1,000 problems per difficulty are correct and need every number', () => {
    const meanSteps: number[] = [];
    for (let d = min; d <= max; d++) {
      let steps = 0;
      for (let seed = 0; seed < 1000; seed++) {
        const p = countdown.generate(seed, d);
        const completion = countdown.goldCompletion(p);
        const v = countdown.verify(p, completion);
        if (v.verdict !== 'correct') throw new Error(`${p.prompt}\n${completion}\n${JSON.stringify(v)}`);
        expect(p.data.numbers).toHaveLength(d);
        expect(p.prompt).toBe(`Use ${p.data.numbers.join(' ')} to make ${p.data.target}\n`);
        expect(p.data.target).toBeLessThanOrEqual(999);
        steps += p.goldSteps.length;
      }
      meanSteps.push(steps / 1000);
    }
    // The target needs all the numbers, so a shortest solution has one step fewer than numbers.
    expect(meanSteps).toEqual(Array.from({ length: max - min + 1 }, (_, i) => min + i - 1));
  });

  it('has no shorter solution than its gold one', () => {
    for (let seed = 0; seed < 100; seed++) {
      const p = countdown.generate(seed, 4);
      expect(reachable(p.data.numbers, p.data.target, 2)).toBe(false);
    }
  });

  it('uses all four operations', () => {
    const ops = new Set<string>();
    for (let seed = 0; seed < 200; seed++) for (const line of countdown.generate(seed, 4).goldSteps) ops.add(parseStep(line)!.op);
    expect([...ops].sort()).toEqual(['*', '+', '-', '/']);
  });

  it('rejects difficulties outside the range', () => {
    expect(() => countdown.generate(1, min - 1)).toThrow(/difficulty/);
    expect(() => countdown.generate(1, max + 1)).toThrow(/difficulty/);
  });
});
