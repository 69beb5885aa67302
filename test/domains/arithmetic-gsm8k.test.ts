import { describe, expect, it } from 'vitest';
import { arithmetic, importGsm8k } from '../../src/domains/arithmetic/index.js';
import { UserError } from '../../src/cli/errors.js';
import { REFUSAL } from '../../src/domains/response.js';

const rows = [
  {
    question: 'A baker makes 12 loaves an hour for 5 hours and sells 23 of them. How many loaves are left?',
    answer: 'The baker makes 12*5 = <<12*5=60>>60 loaves.\nAfter selling, 60-23 = <<60-23=37>>37 loaves are left.\n#### 37',
  },
  {
    question: 'A $20 shirt is 15% off. What does it cost?',
    answer: 'The discount is 20*.15 = <<20*.15=3>>3 dollars.\nSo it costs 20-3 = <<20-3=17>>17 dollars.\n#### 17',
  },
  {
    question: 'Sam saves 1200 dollars and gets 300 more, then doubles it. How much does he have?',
    answer: '1200+300=1500\nDoubling gives <<1500*2=3000>>3000 dollars.\n#### 3,000',
  },
  {
    question: 'Ten cookies are split between three children, rounded down, then each eats one. How many are left per child?',
    answer: 'Each child gets 10/3 = <<10/3=3.33>>3.33, so 3 cookies.\nAfter eating one, 3-1 = <<3-1=2>>2 remain.\n#### 2',
  },
];
const fixture = [JSON.stringify(rows[0]), JSON.stringify(rows[1]), '', JSON.stringify(rows[2]), JSON.stringify(rows[3])].join('\r\n') + '\n';

describe('GSM8K import', () => {
  const problems = importGsm8k(fixture);

  it('reads every row, naming problems by line', () => {
    expect(problems.map((p) => p.id)).toEqual(['gsm8k-1', 'gsm8k-2', 'gsm8k-4', 'gsm8k-5']);
    expect(problems[0]).toMatchObject({
      domain: 'arithmetic',
      difficulty: 2,
      prompt: rows[0]!.question + '\n',
      goldSteps: ['The baker makes 12*5 = <<12*5=60>>60 loaves.', 'After selling, 60-23 = <<60-23=37>>37 loaves are left.'],
      goldAnswer: '37',
    });
    // Difficulty counts calculator annotations; commas leave the answer.
    expect(problems[2]).toMatchObject({ difficulty: 1, goldAnswer: '3000' });
  });

  it('grades gold completions as correct', () => {
    for (const p of problems) expect(arithmetic.verify(p, arithmetic.goldCompletion(p))).toEqual({ verdict: 'correct', depth: 2 });
  });

  it('grades the final answer and every checkable computation', () => {
    const [baker, sam, cookies] = [problems[0]!, problems[2]!, problems[3]!];
    const v = (p: typeof baker, r: string) => arithmetic.verify(p, r);
    expect(v(baker, 'I multiply and subtract.\n#### 37')).toEqual({ verdict: 'correct', depth: 1 });
    expect(v(baker, '12*5=60\n60-23=37\n#### 37.0').verdict).toBe('correct');
    expect(v(baker, '#### 37').reason).toMatch(/no steps/);
    expect(v(baker, '12*5=60\n60-23=37').reason).toMatch(/no final answer/);
    expect(v(baker, '12*5=60\n60-23=37\n#### 38').reason).toMatch(/not 37/);
    expect(v(baker, '12*5=60\n60-23=37\n#### thirty-seven').reason).toMatch(/not a number/);
    expect(v(baker, 'He makes <<12*5=65>>65.\n60-23=37\n#### 37').reason).toMatch(/step 1: computation <<12\*5=65>> is false/);
    expect(v(baker, '12*5=60\n60-23=38\n#### 37').reason).toMatch(/step 2: 60-23=38 is false/);
    expect(v(baker, '12*5=60=61\n#### 37').reason).toMatch(/step 1/);
    // Prose with numbers is not checked; unknown syntax in an annotation is tolerated.
    expect(v(baker, 'He bakes 60 = lots.\n<<12^5=3>>\n#### 37').verdict).toBe('correct');
    expect(v(sam, '1500*2 = 3000\n#### 3,000').verdict).toBe('correct');
    // Stated results may be rounded or truncated to the decimals they show, not further off.
    expect(v(cookies, '<<10/3=3.3>>\n#### 2').verdict).toBe('correct');
    expect(v(cookies, '<<10/3=3>>\n#### 2').verdict).toBe('correct');
    expect(v(cookies, '<<10/3=3.5>>\n#### 2').verdict).toBe('wrong');
    expect(v(cookies, '<<0.1+0.2=0.30000000000000004>>\n#### 2').verdict).toBe('correct');
  });

  it('grades refusals and hedges like every domain', () => {
    const p = problems[0]!;
    expect(arithmetic.verify(p, `The baker makes 60 loaves.\n${REFUSAL}`)).toEqual({ verdict: 'idk', depth: 1 });
    expect(arithmetic.verify(p, `#### 37\n${REFUSAL}`).reason).toMatch(/hedge/);
  });

  it.each([
    ['{"question": "q", "answer": "#### 1"', 'line 2: not valid JSON'],
    ['[1, 2]', 'line 2: expected a JSON object'],
    ['{"answer": "#### 1"}', 'line 2: "question" must be a non-empty string'],
    ['{"question": "q", "answer": 1}', 'line 2: "answer" must be a string'],
    ['{"question": "q", "answer": "it is 4"}', 'line 2: "answer" must end with a line "#### <number>"'],
    ['{"question": "q", "answer": "#### 4\\nmore"}', 'line 2: "answer" must end'],
    ['{"question": "q", "answer": "2+2=4\\n#### four"}', "line 2: final answer 'four' is not a number"],
    ['{"question": "q", "answer": "#### 3\\n#### 4"}', 'line 2: "answer" has more than one "####" line'],
  ])('rejects the malformed line %j', (line, message) => {
    const text = `${JSON.stringify(rows[0])}\n${line}\n`;
    expect(() => importGsm8k(text)).toThrow(UserError);
    expect(() => importGsm8k(text)).toThrow(message);
  });

  it('skips rows whose gold solution reads as a refusal, and says so', () => {
    const skipped: number[] = [];
    const row = { question: 'q', answer: 'Unfortunately, 2 apples rot.\n5-2=3\n#### 3' };
    const problems = importGsm8k(`${JSON.stringify(row)}\n${JSON.stringify(rows[1])}`, (line) => skipped.push(line));
    expect(problems.map((p) => p.id)).toEqual(['gsm8k-2']);
    expect(skipped).toEqual([1]);
  });

  it('returns nothing for empty input', () => {
    expect(importGsm8k('')).toEqual([]);
    expect(importGsm8k('\uFEFF\n\n')).toEqual([]);
  });
});
