import { describe, expect, it } from 'vitest';
import { detectRefusal, parseResponse, preVerdict, formatCompletion, refusalCompletion, REFUSAL, MAX_RESPONSE_CHARS } from '../../src/domains/response.js';

describe('refusal detection', () => {
  it.each([
    REFUSAL,
    "I don't know.",
    'i do not know',
    'I DONT KNOW',
    'Unfortunately this is beyond me',
    'There is no answer I can give',
    'This is too   difficult',
    "I can't solve it",
  ])('detects %j', (s) => expect(detectRefusal(s)).toBe(true));
  it.each(['(unstack b a)', '12*3=36', '#### 42', 'the cat knows the dog', 'no answers here?'])('does not flag %j', (s) =>
    expect(detectRefusal(s)).toBe(false),
  );
});

describe('parseResponse / preVerdict', () => {
  it('splits steps and answer, ignoring blank lines', () => {
    const p = parseResponse('1+2=3\n\n3*4=12\r\n#### 12\n');
    expect(p).toMatchObject({ steps: ['1+2=3', '3*4=12'], answer: '12', refused: false });
    expect(preVerdict(p)).toBeNull();
  });
  it('a refusal after k steps is idk with depth k', () => {
    expect(preVerdict(parseResponse(refusalCompletion(['a', 'b', 'c'], 2)))).toEqual({ verdict: 'idk', depth: 2 });
    expect(preVerdict(parseResponse(REFUSAL))).toEqual({ verdict: 'idk', depth: 0 });
  });
  it('an answer next to a refusal is a hedge, whichever comes first', () => {
    for (const text of ['1+2=3\n#### 3\n' + REFUSAL, REFUSAL + '\n#### 3']) {
      const v = preVerdict(parseResponse(text));
      expect(v?.verdict).toBe('wrong');
      expect(v?.reason).toMatch(/hedge/);
    }
  });
  it('over-long responses are wrong without scanning them whole', () => {
    const v = preVerdict(parseResponse('1+1=2\n'.repeat(MAX_RESPONSE_CHARS)));
    expect(v?.verdict).toBe('wrong');
    expect(v?.reason).toMatch(/longer than/);
  });
  it('formats completions in the training format', () => {
    expect(formatCompletion(['a', 'b'], '7')).toBe('a\nb\n#### 7');
    expect(formatCompletion(['a'], null)).toBe('a');
    expect(refusalCompletion(['a', 'b'], 5)).toBe(`a\nb\n${REFUSAL}`);
  });
});
