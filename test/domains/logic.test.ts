import { describe, expect, it } from 'vitest';
import { logic, problemFromTheory } from '../../src/domains/logic/index.js';
import { parseStep } from '../../src/domains/logic/format.js';
import { goldTrace } from '../../src/domains/logic/prove.js';
import { decide, holdsFn, negate, type LogicData } from '../../src/domains/logic/theory.js';
import { REFUSAL, refusalCompletion } from '../../src/domains/response.js';
import type { Problem } from '../../src/domains/types.js';

// One hand-made theory, three questions: one per label.
const theory = {
  facts: ['cat red', '~dog big', 'owl fat'],
  rules: [
    { body: ['cat red'], head: 'ant hot' }, // r1
    { body: ['ant hot', 'owl fat'], head: 'yak sly' }, // r2
    { body: ['dog big'], head: '~yak sly' }, // r3: preferred exception to r2, fails (~dog big)
    { body: ['ant hot'], head: '~owl old' }, // r4: preferred exception to r5, fires
    { body: ['cat red'], head: 'owl old' }, // r5: fires but overridden by r4
    { body: ['dog big'], head: 'bee hot' }, // r6
    { body: ['bee hot'], head: 'fox shy' }, // r7
    { body: ['owl shy'], head: '~fox shy' }, // r8
  ],
  prefs: [[3, 2], [4, 5], [8, 7]] as [number, number][],
};
const proved = problemFromTheory('hand-proved', 2, { ...theory, question: 'yak sly' });
const disproved = problemFromTheory('hand-disproved', 2, { ...theory, question: 'owl old' });
const unknown = problemFromTheory('hand-unknown', 2, { ...theory, question: 'fox shy' });

const lines = (...ls: string[]): string => ls.join('\n');
const verdictOf = (p: Problem<LogicData>, response: string) => logic.verify(p, response);

describe('logic: hand-made theory', () => {
  it('renders a compact prompt', () => {
    expect(proved.prompt).toBe(lines(
      'facts: cat red, ~dog big, owl fat',
      'r1: ant hot <= cat red',
      'r2: yak sly <= ant hot & owl fat',
      'r3: ~yak sly <= dog big',
      'r4: ~owl old <= ant hot',
      'r5: owl old <= cat red',
      'r6: bee hot <= dog big',
      'r7: fox shy <= bee hot',
      'r8: ~fox shy <= owl shy',
      'r3>r2 r4>r5 r8>r7',
      'q: yak sly?',
      '',
    ));
  });

  it('writes the gold search traces: notes restate each rule tried and say which condition the search checks', () => {
    expect(logic.goldCompletion(proved)).toBe(lines(
      '> r2: yak sly <= ant hot & owl fat', '> r2: ant hot', '> r1: ant hot <= cat red', 'r1: ant hot <= cat red',
      '> r3: ~yak sly <= dog big', '> r3: dog big', 'r3: ? dog big', 'r2: yak sly <= ant hot & owl fat', '#### proved'));
    // owl old is tried first: r5 fires, but r4 (preferred) fires too, so the search turns to ~owl old.
    expect(logic.goldCompletion(disproved)).toBe(lines(
      '> r5: owl old <= cat red', '> r4: ~owl old <= ant hot', '> r4: ant hot', '> r1: ant hot <= cat red', 'r1: ant hot <= cat red',
      '> r4: ~owl old <= ant hot', 'r4: ~owl old <= ant hot', '#### disproved'));
    expect(logic.goldCompletion(unknown)).toBe(lines(
      '> r7: fox shy <= bee hot', '> r7: bee hot', '> r6: bee hot <= dog big', '> r6: dog big', 'r6: ? dog big', 'r7: ? bee hot',
      '> r8: ~fox shy <= owl shy', '> r8: owl shy', 'r8: ? owl shy', '? fox shy', '#### unknown'));
    for (const p of [proved, disproved, unknown]) {
      expect(verdictOf(p, logic.goldCompletion(p))).toEqual({ verdict: 'correct', depth: p.goldSteps.length });
    }
  });

  it('accepts other valid orders and spacing', () => {
    expect(verdictOf(proved, lines('r3: ? dog big', 'r1: ant hot <= cat red', 'r2: yak sly <= ant hot & owl fat', '#### proved')).verdict)
      .toBe('correct');
    expect(verdictOf(proved, lines('  r1:  ant hot   <=  cat red', 'r3: ?  dog big', '', 'r2: yak sly <= ant hot & owl fat', '####   Proved')))
      .toEqual({ verdict: 'correct', depth: 3 });
    // notes claim nothing: any note is passed over, and counts toward the depth
    expect(verdictOf(proved, lines('> r9: cat red', 'r1: ant hot <= cat red', '>anything', 'r3: ? dog big', 'r2: yak sly <= ant hot & owl fat', '#### proved')))
      .toEqual({ verdict: 'correct', depth: 5 });
    expect(verdictOf(proved, lines('> r2: ant hot', '> r3: dog big', 'r2: yak sly <= ant hot & owl fat', '#### proved')).verdict).toBe('wrong');
    // extra valid steps are allowed
    expect(verdictOf(unknown, lines('r1: ant hot <= cat red', 'r6: ? dog big', 'r7: ? bee hot', 'r8: ? owl shy', '? fox shy', '#### unknown')))
      .toEqual({ verdict: 'correct', depth: 5 });
  });

  it('rejects an invented step', () => {
    const v = verdictOf(proved, lines('r1: yak sly <= cat red', '#### proved'));
    expect(v).toMatchObject({ verdict: 'wrong', depth: 1 });
    expect(v.reason).toMatch(/^step 1: r1 does not read/);
    expect(verdictOf(proved, lines('r42: yak sly <= cat red', '#### proved')).reason).toMatch(/^step 1: there is no rule r42/);
    expect(verdictOf(proved, lines('fact: yak sly', '#### proved')).reason).toMatch(/^step 1: not a step/);
  });

  it('rejects a step whose condition is not established', () => {
    const v = verdictOf(proved, lines('r3: ? dog big', 'r2: yak sly <= ant hot & owl fat', '#### proved'));
    expect(v.verdict).toBe('wrong');
    expect(v.reason).toMatch(/^step 2: ant hot is neither a fact nor derived earlier/);
  });

  it('rejects a rule applied without ruling out its preferred rival', () => {
    const v = verdictOf(proved, lines('r1: ant hot <= cat red', 'r2: yak sly <= ant hot & owl fat', '#### proved'));
    expect(v.verdict).toBe('wrong');
    expect(v.reason).toMatch(/^step 2: r3 \(preferred over r2\) concludes ~yak sly/);
  });

  it('rejects a step using an overridden rule when the preferred rule fires', () => {
    // r5 fires but r4 (preferred) fires too: owl old is not provable.
    const direct = verdictOf(disproved, lines('r5: owl old <= cat red', '#### proved'));
    expect(direct.verdict).toBe('wrong');
    expect(direct.reason).toMatch(/^step 1: r4 \(preferred over r5\)/);
    // Trying to show that r4 fails cannot work either: its condition holds.
    expect(verdictOf(disproved, lines('r4: ? ant hot', 'r5: owl old <= cat red', '#### proved')).reason)
      .toMatch(/^step 1: r1 concludes ant hot and is not shown to fail/);
    expect(verdictOf(disproved, lines('r1: ant hot <= cat red', 'r4: ? ant hot', 'r5: owl old <= cat red', '#### proved')).reason)
      .toMatch(/^step 2: ant hot holds/);
  });

  it('rejects false failure claims', () => {
    expect(verdictOf(proved, lines('r2: ? owl fat', '#### unknown')).reason).toMatch(/^step 1: owl fat holds/);
    expect(verdictOf(proved, lines('r3: ? cat red', '#### proved')).reason).toMatch(/^step 1: "cat red" is not a condition of r3/);
    expect(verdictOf(proved, lines('? yak sly', '#### unknown')).reason).toMatch(/^step 1: r2 concludes yak sly or its negation/);
    expect(verdictOf(unknown, lines('r7: ? bee hot', '#### unknown')).reason).toMatch(/^step 1: r6 concludes bee hot/);
  });

  it('rejects the right label reached through wrong steps', () => {
    // a valid derivation, then a step using a literal not derived yet
    const v = verdictOf(proved, lines('r1: ant hot <= cat red', 'r7: fox shy <= bee hot', 'r3: ? dog big',
      'r2: yak sly <= ant hot & owl fat', '#### proved'));
    expect(v).toMatchObject({ verdict: 'wrong', depth: 4 });
    expect(v.reason).toMatch(/^step 2: bee hot is neither/);
  });

  it('rejects a wrong label, even after valid steps', () => {
    const steps = proved.goldSteps.join('\n');
    expect(verdictOf(proved, `${steps}\n#### disproved`).reason).toMatch(/^answer disproved without a step deriving ~yak sly/);
    expect(verdictOf(proved, `${steps}\n#### unknown`).reason).toMatch(/^answer unknown without the step "\? yak sly"/);
    expect(verdictOf(proved, `${steps}\n#### maybe`).reason).toMatch(/is not proved, disproved or unknown/);
    expect(verdictOf(disproved, `${disproved.goldSteps.join('\n')}\n#### proved`).verdict).toBe('wrong');
  });

  it('rejects a missing answer and an answer without its steps', () => {
    expect(verdictOf(proved, proved.goldSteps.join('\n'))).toMatchObject({ verdict: 'wrong', depth: proved.goldSteps.length, reason: expect.stringMatching(/no final answer/) });
    expect(verdictOf(proved, '#### proved')).toMatchObject({ verdict: 'wrong', depth: 0 });
    expect(verdictOf(disproved, '#### disproved').verdict).toBe('wrong');
    expect(verdictOf(unknown, '#### unknown').verdict).toBe('wrong');
    // the key step alone is not enough: its premises must be there
    expect(verdictOf(unknown, lines('? fox shy', '#### unknown')).verdict).toBe('wrong');
    expect(verdictOf(disproved, lines('r4: ~owl old <= ant hot', '#### disproved')).verdict).toBe('wrong');
    // steps that do not reach the question
    expect(verdictOf(proved, lines('r1: ant hot <= cat red', '#### proved')).reason).toMatch(/^answer proved without a step deriving yak sly/);
  });

  it('grades refusals as idk with the depth reached', () => {
    expect(verdictOf(proved, REFUSAL)).toEqual({ verdict: 'idk', depth: 0 });
    expect(verdictOf(proved, refusalCompletion(proved.goldSteps, 2))).toEqual({ verdict: 'idk', depth: 2 });
    expect(verdictOf(unknown, lines('r6: ? dog big', "I don't know."))).toEqual({ verdict: 'idk', depth: 1 });
  });

  it('grades hedges as wrong', () => {
    const gold = logic.goldCompletion(proved);
    expect(verdictOf(proved, `${gold}\n${REFUSAL}`)).toMatchObject({ verdict: 'wrong', reason: expect.stringMatching(/hedge/) });
    expect(verdictOf(proved, `${REFUSAL}\n${gold}`).verdict).toBe('wrong');
    expect(verdictOf(proved, lines('#### proved', 'sorry, not sure')).verdict).toBe('wrong');
  });

  it('labels hand-made theories by their meaning', () => {
    expect([proved, disproved, unknown].map((p) => p.goldAnswer)).toEqual(['proved', 'disproved', 'unknown']);
  });
});

describe('logic: generated problems', () => {
  const COUNT = 1000;
  const byDepth = new Map<number, Problem<LogicData>[]>();
  for (let d = logic.difficulty.min; d <= logic.difficulty.max; d++) {
    byDepth.set(d, Array.from({ length: COUNT }, (_, i) => logic.generate(1000 * d + i, d)));
  }

  it('gold solutions are correct at every depth', () => {
    for (const problems of byDepth.values()) {
      for (const p of problems) {
        const v = logic.verify(p, logic.goldCompletion(p));
        if (v.verdict !== 'correct') throw new Error(`${p.id}: ${v.reason}\n${p.prompt}\n${logic.goldCompletion(p)}`);
        expect(v.depth).toBe(p.goldSteps.length);
        expect(p.goldAnswer).toBe(decide(p.data));
        expect(p.data.label).toBe(p.goldAnswer);
      }
    }
  });

  it('is deterministic for (seed, depth), and seeds and depths matter', () => {
    for (const d of [1, 4, 6]) {
      for (const seed of [0, 1, 77, 2 ** 32 - 1]) expect(logic.generate(seed, d)).toEqual(logic.generate(seed, d));
    }
    expect(logic.generate(5, 3).prompt).not.toBe(logic.generate(6, 3).prompt);
    expect(logic.generate(5, 3).data.question === logic.generate(5, 4).data.question
      && logic.generate(6, 3).data.question === logic.generate(6, 4).data.question).toBe(false);
  });

  it('keeps data plain JSON', () => {
    const p = byDepth.get(3)![0]!;
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('balances the three labels at every depth', () => {
    for (const [d, problems] of byDepth) {
      const counts = { proved: 0, disproved: 0, unknown: 0 };
      for (const p of problems) counts[p.goldAnswer as keyof typeof counts]++;
      for (const n of Object.values(counts)) expect(n, `depth ${d}: ${JSON.stringify(counts)}`).toBeGreaterThan(COUNT / 4);
    }
  });

  it('gold chains get longer with depth', () => {
    let previous = 0;
    for (const [d, problems] of byDepth) {
      const mean = problems.reduce((s, p) => s + p.goldSteps.length, 0) / problems.length;
      expect(mean, `depth ${d}`).toBeGreaterThan(previous + 0.5);
      expect(Math.min(...problems.map((p) => p.goldSteps.length))).toBeGreaterThanOrEqual(d);
      previous = mean;
    }
  });

  it('needs every step of the minimal chain: dropping any one makes the answer wrong', () => {
    for (const problems of byDepth.values()) {
      for (const p of problems.slice(0, 60)) {
        const minimal = goldTrace(p.data)!.steps;
        expect(minimal.length).toBeLessThanOrEqual(p.goldSteps.filter((s) => !s.startsWith('>')).length);
        expect(logic.verify(p, `${minimal.join('\n')}\n#### ${p.goldAnswer}`).verdict).toBe('correct');
        for (let i = 0; i < minimal.length; i++) {
          const steps = minimal.filter((_, j) => j !== i);
          expect(logic.verify(p, `${steps.join('\n')}\n#### ${p.goldAnswer}`).verdict, `${p.id} without step ${i + 1}`).toBe('wrong');
        }
      }
    }
  });

  it('grades other labels and refusals of gold chains', () => {
    for (const problems of byDepth.values()) {
      for (const p of problems.slice(0, 100)) {
        for (const label of ['proved', 'disproved', 'unknown']) {
          if (label === p.goldAnswer) continue;
          expect(logic.verify(p, `${p.goldSteps.join('\n')}\n#### ${label}`).verdict).toBe('wrong');
        }
        const keep = p.goldSteps.length - 1;
        expect(logic.verify(p, refusalCompletion(p.goldSteps, keep))).toEqual({ verdict: 'idk', depth: keep });
        expect(logic.verify(p, `${logic.goldCompletion(p)}\n${REFUSAL}`).verdict).toBe('wrong');
      }
    }
  });

  it('accepts only steps that are true in the theory (random walks over step lines)', () => {
    let accepted = 0;
    for (const [d, problems] of byDepth) {
      for (const p of problems.slice(0, 40)) {
        const candidates = candidateSteps(p.data);
        const holds = holdsFn(p.data);
        let seed = d * 7919 + accepted;
        const pick = (): string => candidates[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % candidates.length]!;
        const chain: string[] = [];
        for (let tries = 0; tries < 400 && chain.length < 25; tries++) {
          const step = pick();
          if (chain.includes(step)) continue;
          const v = logic.verify(p, `${[...chain, step].join('\n')}\n#### proved`);
          if (v.reason?.startsWith(`step ${chain.length + 1}:`)) continue;
          chain.push(step);
          accepted++;
          const s = parseStep(step)!;
          if (s.kind === 'apply') expect(holds(p.data.rules[s.rule - 1]!.head), step).toBe(true);
          else if (s.kind === 'block') expect(holds(s.literal), step).toBe(false);
          else if (s.kind === 'undecided') expect(holds(s.literal) || holds(negate(s.literal)), step).toBe(false);
        }
      }
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});

/** Every well-formed step line about a theory: applications, failures and undecided atoms. */
function candidateSteps(data: LogicData): string[] {
  const steps: string[] = [];
  const atoms = new Set<string>();
  data.rules.forEach((rule, i) => {
    steps.push(`r${i + 1}: ${rule.head} <= ${rule.body.join(' & ')}`);
    for (const b of rule.body) steps.push(`r${i + 1}: ? ${b}`);
    for (const l of [...rule.body, rule.head]) atoms.add(l.replace(/^~/, ''));
  });
  for (const a of atoms) steps.push(`? ${a}`);
  return steps;
}
