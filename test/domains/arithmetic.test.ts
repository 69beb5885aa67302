import { describe, expect, it } from 'vitest';
import { arithmetic, type ArithmeticData } from '../../src/domains/arithmetic/index.js';
import { parseExpr, evaluate } from '../../src/domains/arithmetic/expr.js';
import { parseIntegerAnswer, parseStep } from '../../src/domains/arithmetic/step.js';
import { REFUSAL } from '../../src/domains/response.js';
import type { Problem } from '../../src/domains/types.js';

/** A hand-made problem; its gold fields are not used by the verifier. */
function problem(expr: string): Problem<ArithmeticData> {
  return { id: 't', domain: 'arithmetic', difficulty: 1, prompt: `Evaluate ${expr}`, goldSteps: [], goldAnswer: null, data: { kind: 'expr', expr } };
}

const grade = (expr: string, response: string) => arithmetic.verify(problem(expr), response);

describe('arithmetic: hand-written responses', () => {
  const E = '(12+7)*3-5';

  it('accepts the evaluation of the expression, with or without spaces', () => {
    expect(grade(E, '12+7=19\n19*3=57\n57-5=52\n#### 52')).toEqual({ verdict: 'correct', depth: 3 });
    expect(grade(E, '12 + 7 = 19\n19 * 3 = 57\n\n57 - 5 = 52\n####52')).toEqual({ verdict: 'correct', depth: 3 });
    expect(grade(E, '12+7=19\n19×3=57\n57−5=52\n#### 52').verdict).toBe('correct');
  });

  it('accepts any evaluation order and swapped operands of + and *', () => {
    const X = '2*3+4*5';
    expect(grade(X, '4*5=20\n2*3=6\n6+20=26\n#### 26').verdict).toBe('correct');
    expect(grade(X, '3*2=6\n5*4=20\n20+6=26\n#### 26').verdict).toBe('correct');
    // ... but not of - and /.
    expect(grade('9-4', '4-9=-5\n#### 5').verdict).toBe('wrong');
  });

  it('tracks which of two equal sub-expressions a step evaluated', () => {
    const X = '(2+3)*4+(2+3)';
    expect(grade(X, '2+3=5\n5*4=20\n2+3=5\n20+5=25\n#### 25').verdict).toBe('correct');
    expect(grade(X, '2+3=5\n2+3=5\n5*4=20\n20+5=25\n#### 25').verdict).toBe('correct');
    expect(grade(X, '2+3=5\n2+3=5\n2+3=5\n20+5=25\n#### 25').reason).toMatch(/step 3: .*not an operation/);
  });

  it('accepts comma-grouped answers and exact division', () => {
    expect(grade('617*2', '617*2=1234\n#### 1,234').verdict).toBe('correct');
    expect(grade('84/(2+5)', '2+5=7\n84/7=12\n#### 12').verdict).toBe('correct');
  });

  it.each([
    ['#### 52', /no steps/],
    ['12+7=19\n19*3=57\n57-5=52', /no final answer/],
    ['12+7=19\n19*3=57\n57-5=52\n#### 53', /not the value/],
    ['12+7=19\n19*3=56\n57-5=52\n#### 52', /step 2: 19\*3=56 is false/],
    ['12+7=19\n19*3=57\n57-5=52\n#### 52.0', /not an integer/],
    ['12+7=19\n19*3=57\n57-5=52\n#### 5.2e1', /not an integer/],
    ['12+7=19\n19*3=57\n57-5=52\n#### +52', /not an integer/],
    ['12+7=19\n19*3=57\n57-5=52\n#### 52 apples', /not an integer/],
    ['12+7=19\n19*3=57\n57-5=52\n#### 5,2', /not an integer/],
    ['12+7=19\n19*3=57\n57-5=52\n#### ' + '9'.repeat(5000), /not an integer/],
    ['40+12=52\n#### 52', /step 1: 40\+12=52 is not an operation/],
    ['19*3=57\n12+7=19\n57-5=52\n#### 52', /step 1: 19\*3=57 is not an operation/],
    ['12+7=19\n19*3=57\n#### 57', /unevaluated/],
    ['12+7=19\n19*3=57\n57-5=52\n52+0=52\n#### 52', /step 4: more steps than/],
    ['12+7=19\n12+7=19\n19*3=57\n57-5=52\n#### 52', /step 2: .*not an operation/],
    ['First add.\n12+7=19\n19*3=57\n57-5=52\n#### 52', /step 1: 'First add\.' is not of the form/],
    ['12+7=19\n(19)*3=57\n57-5=52\n#### 52', /step 2: .* not of the form/],
    ['12+7=19\n19*3=57=57\n57-5=52\n#### 52', /step 2/],
    ['12+7*3-5=52\n#### 52', /step 1: .* not of the form/],
    ['19=19\n19*3=57\n57-5=52\n#### 52', /step 1: .* not of the form/],
    ['12+7=19\n19*3=57\n57-5=52\n' + '1'.repeat(300) + '\n#### 52', /step 4/],
  ])('rejects %j', (response, reason) => {
    const v = grade(E, response);
    expect(v.verdict).toBe('wrong');
    expect(v.reason).toMatch(reason);
  });

  it('names division problems in steps', () => {
    expect(grade('84/(2+5)', '2+5=7\n84/0=0\n#### 12').reason).toMatch(/step 2: 84\/0=0: division by zero/);
    expect(grade('84/(2+5)', '2+5=7\n85/7=12\n#### 12').reason).toMatch(/step 2: 85\/7=12: division is not exact/);
  });

  it('grades refusals as idk with the depth reached, and hedges as wrong', () => {
    expect(grade(E, REFUSAL)).toEqual({ verdict: 'idk', depth: 0 });
    expect(grade(E, `12+7=19\n19*3=57\n${REFUSAL}`)).toEqual({ verdict: 'idk', depth: 2 });
    expect(grade(E, "12+7=19\nI don't know.")).toEqual({ verdict: 'idk', depth: 1 });
    // A refusal after false steps is still a refusal: nothing was claimed.
    expect(grade(E, `12+7=20\n${REFUSAL}`)).toEqual({ verdict: 'idk', depth: 1 });
    const hedge = grade(E, `12+7=19\n19*3=57\n57-5=52\n#### 52\n${REFUSAL}`);
    expect(hedge.verdict).toBe('wrong');
    expect(hedge.reason).toMatch(/hedge/);
    expect(grade(E, `${REFUSAL}\n#### 52`).verdict).toBe('wrong');
  });
});

describe('arithmetic: generation', () => {
  const { min, max } = arithmetic.difficulty;

  it('is deterministic for (seed, difficulty) and varies with the seed', () => {
    for (let d = min; d <= max; d++) {
      expect(arithmetic.generate(42, d)).toEqual(arithmetic.generate(42, d));
      const prompts = new Set(Array.from({ length: 50 }, (_, i) => arithmetic.generate(i, d).prompt));
      expect(prompts.size).toBeGreaterThan(45);
    }
  });

  it('gold completions of 1,000 problems per difficulty are correct, one step per operation', () => {
    const meanSteps: number[] = [];
    for (let d = min; d <= max; d++) {
      let steps = 0;
      for (let seed = 0; seed < 1000; seed++) {
        const p = arithmetic.generate(seed, d);
        const completion = arithmetic.goldCompletion(p);
        const v = arithmetic.verify(p, completion);
        if (v.verdict !== 'correct') throw new Error(`${p.prompt}\n${completion}\n${JSON.stringify(v)}`);
        expect(v.depth).toBe(p.goldSteps.length);
        expect(p.difficulty).toBe(d);
        // The prompt's expression has the gold value.
        const value = evaluate(p.prompt.trim().replace(/^Evaluate /, ''));
        expect(value).toEqual({ n: BigInt(p.goldAnswer!), d: 1n });
        steps += p.goldSteps.length;
      }
      meanSteps.push(steps / 1000);
    }
    expect(meanSteps).toEqual(Array.from({ length: max - min + 1 }, (_, i) => min + i));
  });

  it('keeps intermediate values positive, divisions exact and numbers growing with difficulty', () => {
    const largest = (d: number): number => {
      let m = 0;
      for (let seed = 0; seed < 200; seed++) {
        for (const line of arithmetic.generate(seed, d).goldSteps) {
          const s = parseStep(line)!;
          expect(s.c > 0n).toBe(true);
          m = Math.max(m, Number(s.c));
        }
      }
      return m;
    };
    expect(largest(1)).toBeLessThan(largest(6));
    expect(largest(6)).toBeLessThan(largest(12));
  });

  it('uses all four operations', () => {
    const ops = new Set<string>();
    for (let seed = 0; seed < 100; seed++) for (const line of arithmetic.generate(seed, 3).goldSteps) ops.add(parseStep(line)!.op);
    expect([...ops].sort()).toEqual(['*', '+', '-', '/']);
  });

  it('rejects difficulties outside the range', () => {
    expect(() => arithmetic.generate(1, 0)).toThrow(/difficulty/);
    expect(() => arithmetic.generate(1, max + 1)).toThrow(/difficulty/);
    expect(() => arithmetic.generate(1, 1.5)).toThrow(/difficulty/);
  });
});

describe('arithmetic: number and expression parsing', () => {
  it.each([
    ['42', 42n], ['-5', -5n], ['1,234', 1234n], ['1,234,567', 1234567n], ['007', 7n], [' 8 ', 8n],
  ])('reads the answer %j', (text, value) => expect(parseIntegerAnswer(text)).toBe(value));

  it.each(['1e3', '1.5', '+3', '1,23', ',123', '12,34,567', '0x10', '1_000', 'NaN', 'Infinity', '', '-', '--5', '5-', '9'.repeat(31)])(
    'rejects the answer %j',
    (text) => expect(parseIntegerAnswer(text)).toBeNull(),
  );

  it('caps expression length and nesting instead of recursing without bound', () => {
    expect(parseExpr('('.repeat(60) + '1' + ')'.repeat(60))).not.toBeNull();
    expect(parseExpr('('.repeat(100) + '1' + ')'.repeat(100))).toBeNull();
    expect(parseExpr('-'.repeat(200) + '1')).toBeNull();
    expect(parseExpr('1+'.repeat(200) + '1')).toBeNull();
  });

  it('evaluates exactly over rationals', () => {
    expect(evaluate('7/2')).toEqual({ n: 7n, d: 2n });
    expect(evaluate('100*.2')).toEqual({ n: 20n, d: 1n });
    expect(evaluate('-(3-5)*2')).toEqual({ n: 4n, d: 1n });
    expect(evaluate('1/0')).toBeNull();
    expect(evaluate('2(3)')).toBeNull();
  });
});
