import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MAX_BLOCKS, PddlError, blocksworld, compile, parseProblem, problemFromPddl, problemFromPddlFile, problemFromTask, randomTask, unstackStackPlan,
  solveOptimal, toPddl, validatePlan, type BlocksworldData,
} from '../../src/domains/blocksworld/index.js';
import { dataFromTask, taskFromData } from '../../src/domains/blocksworld/format.js';
import { HELD, NONE, ON, PREDICATES, TABLE, formatAction, type Atom, type Task } from '../../src/domains/blocksworld/state.js';
import { problemSeed } from '../../src/domains/index.js';
import { REFUSAL, refusalCompletion } from '../../src/domains/response.js';
import type { Problem } from '../../src/domains/types.js';
import { createRng, type Rng } from '../../src/util/random.js';
import { CharTokenizer } from '../../src/engine/tokenizer.js';

const DATA = fileURLToPath(new URL('../../../shared/data/planbench-blocksworld/', import.meta.url));
const FILES = readdirSync(`${DATA}problems`).filter((f) => f.endsWith('.pddl')).sort();
const read = (f: string) => readFileSync(`${DATA}problems/${f}`, 'utf8');

/** Init: a and b on the table, c on b; goal: (on a b). Optimal plan has 4 steps. */
const SMALL = `(define (problem BW-rand-3)
(:domain blocksworld-4ops)
(:objects a b c )
(:init
(handempty)
(ontable a)
(ontable b)
(on c b)
(clear a)
(clear c)
)
(:goal
(and
(on a b))
)
)`;
const SMALL_TASK = parseProblem(SMALL).task;
const check = (plan: string, pddl = SMALL) => validatePlan(compile(parseProblem(pddl).task), plan);
const PLAIN = '(unstack c b)\n(put-down c)\n(pick-up a)\n(stack a b)';
/** The gold plan notes the towers after each put-down and stack. */
const GOLD = '(unstack c b)\n(put-down c) ; a | b | c\n(pick-up a)\n(stack a b) ; b a | c';

describe('blocksworld PDDL import', () => {
  it('reads the small problem', () => {
    const { name, task } = parseProblem(SMALL);
    expect(name).toBe('bw-rand-3');
    expect(task.names).toEqual(['a', 'b', 'c']);
    expect(Array.from(task.below)).toEqual([TABLE, TABLE, 1]);
    expect(task.goal).toEqual([{ pred: ON, a: 0, b: 1 }]);
  });

  it('parses all 200 PlanBench files into consistent tasks that round-trip through toPddl', () => {
    expect(FILES).toHaveLength(200);
    const sizes = new Set<number>();
    for (const f of FILES) {
      const text = read(f);
      const { task } = parseProblem(text);
      const objects = /\(:objects([^)]*)\)/i.exec(text)![1]!.trim().split(/\s+/);
      expect(task.names).toEqual(objects.map((o) => o.toLowerCase()));
      expect(task.goal.length).toBeGreaterThan(0);
      expect(task.goal.every((g) => g.pred === ON)).toBe(true);
      expect(parseProblem(toPddl('x', task)).task).toEqual(task);
      // an empty plan is checked against the goal, not rejected
      expect(validatePlan(compile(task), '').failingStep).toBe(1);
      sizes.add(task.names.length);
    }
    expect(Math.min(...sizes)).toBe(3);
    expect(Math.max(...sizes)).toBe(15);
  });

  it('gold plans for every PlanBench file are valid and graded correct', () => {
    for (const f of FILES) {
      const { task } = parseProblem(read(f));
      const problem = problemFromPddlFile(`${DATA}problems/${f}`);
      expect(problem.id).toBe(basename(f, '.pddl'));
      expect(problem.difficulty).toBe(task.names.length);
      expect(problem.goldAnswer).toBeNull();
      const result = validatePlan(compile(task), problem.goldSteps.join('\n'));
      expect(result).toMatchObject({ valid: true, failingStep: null });
      expect(blocksworld.verify(problem, blocksworld.goldCompletion(problem))).toEqual({ verdict: 'correct', depth: problem.goldSteps.length });
    }
  });

  it('accepts any layout: one line, upper case, comments, tabs, CRLF, trailing spaces, BOM, no final newline', () => {
    const base = parseProblem(SMALL).task;
    const variants = [
      SMALL.replace(/\s+/g, ' '),
      SMALL.replace(/\n/g, '').replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')'),
      SMALL.toUpperCase(),
      SMALL.replace(/\n/g, ' ; a comment (with parens\n'),
      SMALL.replace(/\n/g, '\r\n'),
      SMALL.replace(/ /g, '\t  ').replace(/\n/g, '   \n'),
      '\ufeff' + SMALL,
      ';; header comment\n' + SMALL + '\n\n;; trailing comment',
      SMALL.replace('(:objects a b c )', '(:objects a b - block c - block)'),
      SMALL.replace('(and\n(on a b))', '(on a b)'),
      SMALL.replace('(and\n(on a b))', '(and (and (on a b)))'),
    ];
    for (const v of variants) expect(parseProblem(v).task).toEqual(base);
    const oneLineFile = FILES.map(read).find((t) => /\(:domain [^)]*\)\(:objects/.test(t));
    expect(oneLineFile).toBeDefined();
  });

  it('accepts goals over every predicate and an initial state with a held block', () => {
    const pddl = `(define (problem p) (:domain bw) (:objects a b c)
      (:init (holding a) (ontable b) (on c b) (clear c))
      (:goal (and (clear b) (ontable c) (holding a))))`;
    const { task } = parseProblem(pddl);
    expect(Array.from(task.below)).toEqual([HELD, TABLE, 1]);
    expect(task.goal.map((g) => PREDICATES[g.pred])).toEqual(['clear', 'ontable', 'holding']);
    // the hand must be freed to move c, then a picked up again
    expect(check('(put-down a)\n(unstack c b)\n(put-down c)\n(pick-up a)', pddl)).toMatchObject({ valid: true });
    expect(solveOptimal(task)).toHaveLength(4);
    expect(parseProblem(`(define (problem p) (:domain bw) (:objects a) (:init (handempty) (ontable a) (clear a)) (:goal (and)))`).task.goal).toEqual([]);
  });

  it.each([
    ['', /empty file/],
    ['  ; only a comment\n', /empty file/],
    [SMALL + ')', /unbalanced '\)'/],
    [SMALL.slice(0, -2), /never closed/],
    [SMALL + '\n(define (problem q))', /unexpected text after the problem definition/],
    ['hello ' + SMALL, /unexpected text 'hello' outside parentheses/],
    [readFileSync(`${DATA}domain.pddl`, 'utf8'), /domain file, not a problem file/],
    ['(foo (problem p))', /expected \(define/],
    [SMALL.replace('(problem BW-rand-3)', '(problem)'), /expected \(problem NAME\)/],
    [SMALL.replace('(:objects a b c )', ''), /missing section :objects/],
    [SMALL.replace(/\(:goal[\s\S]*$/, ')'), /missing section :goal/],
    [SMALL.replace('(:domain blocksworld-4ops)', '(:domain x) (:metric minimize (total-cost))'), /unsupported section ':metric'/],
    [SMALL.replace('(:objects a b c )', '(:objects a b c)(:objects d)'), /duplicate section :objects/],
    [SMALL.replace('(:objects a b c )', '(:objects a b c a)'), /object 'a' declared twice/],
    [SMALL.replace('(:objects a b c )', '(:objects a b c 1x)'), /'1x' is not a valid object name/],
    [SMALL.replace('(ontable a)', '(ontable z)'), /line 6: unknown object 'z'/],
    [SMALL.replace('(ontable a)', '(on-table a)'), /line 6: unknown predicate 'on-table'/],
    [SMALL.replace('(ontable a)', '(ontable a b)'), /ontable takes 1 argument, got 2/],
    [SMALL.replace('(handempty)', '(handempty a)'), /handempty takes 0 arguments, got 1/],
    [SMALL.replace('(ontable a)', '(ontable (a))'), /expected an object name/],
    [SMALL.replace('(ontable a)', 'ontable a'), /expected an atom in :init/],
    [SMALL.replace('(ontable a)', '(on a b)'), /line 8: \(on c b\): block b already has a on it/],
    [SMALL.replace('(ontable a)', '(ontable a) (on a c)'), /block a cannot be in two places/],
    [SMALL.replace('(ontable a)', '(on a a)'), /a block cannot be on itself/],
    [SMALL.replace('(ontable a)', ''), /no position for block a/],
    [SMALL.replace('(clear a)', ''), /lacks \(clear a\)/],
    [SMALL.replace('(clear a)', '(clear a) (clear b)'), /says \(clear b\) but c is on it/],
    [SMALL.replace('(handempty)', ''), /neither \(handempty\) nor \(holding/],
    [SMALL.replace('(handempty)', '(handempty) (holding a)'), /cannot be in two places|both \(handempty\) and \(holding a\)/],
    [SMALL.replace('(ontable b)\n(on c b)', '(on b c)\n(on c b)').replace('(clear c)', ''), /cycle/],
    [SMALL.replace('(on a b))', '(not (on a b)))'), /negative literals are not supported/],
    [SMALL.replace('(and\n(on a b))', '(or (on a b) (on b a))'), /unsupported goal formula 'or'/],
    [SMALL.replace('(and\n(on a b))', '(on a q)'), /unknown object 'q'/],
    [SMALL.replace('(:goal\n(and\n(on a b))\n)', '(:goal)'), /exactly one goal formula/],
    ['('.repeat(100) + ')'.repeat(100), /nested deeper than 64/],
  ])('rejects malformed PDDL %#', (text, message) => {
    expect(() => parseProblem(text)).toThrow(PddlError);
    expect(() => parseProblem(text)).toThrow(message);
  });

  it('error messages are one line', () => {
    try {
      parseProblem(SMALL.replace('(ontable a)', '(ontable a)\n(on a c)'));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
      expect((err as Error).message).toMatch(/^line 7: \(on a c\) conflicts with line 6/);
    }
  });
});

describe('blocksworld plan validator', () => {
  it.each([
    ['the optimal plan', GOLD],
    ['any letter case and spacing', '(UNSTACK C B)\n(  put-down\tc )\n(Pick-Up a)\n(stack A b)'],
    ['several actions to a line', '(unstack c b) (put-down c)\n(pick-up a)(stack a b)'],
    ['IPC timestamps and durations', '0: (unstack c b) [1]\n1: (put-down c) [1]\n2.000: (pick-up a) [1.000]\n3 :(stack a b)'],
    ['comments and blank lines', '; plan found by hand\n\n(unstack c b) ; lift c\n\n   \n(put-down c)\n;(stack c a)\n(pick-up a)\n(stack a b)\n; end'],
    ['CRLF, CR and a BOM', '\ufeff(unstack c b)\r\n(put-down c)\r(pick-up a)\r\n(stack a b)\r\n'],
    ['a longer, non-optimal plan', '(pick-up a)\n(put-down a)\n(unstack c b)\n(stack c a)\n(unstack c a)\n(put-down c)\n(pick-up a)\n(stack a b)'],
    ['extra steps after the goal that keep it', GOLD + '\n(pick-up c)\n(put-down c)'],
  ])('accepts %s', (_, plan) => {
    const r = check(plan);
    expect(r.valid).toBe(true);
    expect(r.failingStep).toBeNull();
    expect(r.reason).toMatch(/goal reached after \d+ steps/);
  });

  it.each([
    // unmet preconditions, named
    ['(pick-up a)\n(stack a b)', 2, /precondition of \(stack a b\) not satisfied: \(clear b\)/],
    ['(pick-up c)', 1, /precondition of \(pick-up c\) not satisfied: \(ontable c\)/],
    ['(unstack a b)', 1, /preconditions? of \(unstack a b\) not satisfied: \(on a b\)$/],
    ['(unstack c b)\n(pick-up a)', 2, /\(pick-up a\) not satisfied: \(handempty\)/],
    ['(unstack c b)\n(put-down a)', 2, /\(put-down a\) not satisfied: \(holding a\)/],
    ['(unstack c b)\n(stack c c)', 2, /\(stack c c\) not satisfied: \(clear c\)/],
    ['(unstack c b)\n(stack c b)\n(unstack b c)', 3, /\(unstack b c\) not satisfied: \(on b c\), \(clear b\)/],
    // unknown names and arity
    ['(move c b a)', 1, /unknown action 'move'/],
    ['(unstack c b)\n(putdown c)', 2, /unknown action 'putdown'/],
    ['(unstack c)', 1, /wrong number of arguments in "\(unstack c\)": unstack takes 2, got 1/],
    ['(pick-up a b)', 1, /pick-up takes 1, got 2/],
    ['(pick-up)', 1, /pick-up takes 1, got 0/],
    ['(unstack c z)', 1, /unknown object 'z'/],
    ['(unstack C Zed)', 1, /unknown object 'zed'/],
    // text that is not an action fails the plan at the step where it stands
    ['First, unstack c from b.', 1, /line 1: unparsable text "First, unstack c from b."/],
    ['1. (unstack c b)\n2. (put-down c)', 1, /unparsable/],
    ['(unstack c b)\n2) (put-down c)', 2, /line 2: unparsable/],
    ['(unstack c b)\nStep 2: (put-down c)', 2, /unparsable/],
    ['- (unstack c b)', 1, /unparsable/],
    ['(unstack c b))', 2, /unparsable/],
    ['((unstack c b))', 1, /unparsable/],
    ['(unstack c b', 1, /unparsable/],
    ['(unstack c\nb)', 1, /unparsable/],
    ['(unstack c b) (put-down c', 2, /unparsable/],
    ['[1]', 1, /unparsable/],
    ['(unstack c b) [x]', 2, /unparsable/],
    ['0 (unstack c b)', 1, /unparsable/],
    ['0. (unstack c b)', 1, /unparsable/],
    ['(unstack, c b)', 1, /unparsable/],
    ['(unstack c,b)', 1, /unparsable/],
    ['(unstack "c" b)', 1, /unparsable/],
    ['()', 1, /unparsable/],
    ['(unstack c b)\n(put‐down c)', 2, /unparsable/], // U+2010 hyphen
    ['（unstack c b)', 1, /unparsable/], // fullwidth paren
    ['(unstack c\u00a0b)', 1, /unparsable/], // no-break space
    ['(unstack c b)\n(put-down c)\nnow pick up a\n(pick-up a)\n(stack a b)', 3, /line 3: unparsable text "now pick up a"/],
    // goal not reached: fails at the missing step
    ['', 1, /goal not reached after 0 steps: \(on a b\) does not hold/],
    ['(unstack c b)\n(put-down c)', 3, /goal not reached after 2 steps/],
    [GOLD + '\n(unstack a b)', 6, /goal not reached after 5 steps/],
    ['; nothing but a comment\n\n', 1, /goal not reached after 0 steps/],
  ])('rejects %j at step %i', (plan, step, reason) => {
    const r = check(plan);
    expect(r.valid).toBe(false);
    expect(r.failingStep).toBe(step);
    expect(r.reason).toMatch(reason);
  });

  it('an empty plan is valid when the goal already holds', () => {
    const done = SMALL.replace('(on a b)', '(on c b)');
    expect(check('', done)).toMatchObject({ valid: true, failingStep: null });
    expect(check('\n; nothing to do\n', done).valid).toBe(true);
  });

  it('lists at most four unmet goal atoms', () => {
    const pddl = `(define (problem p) (:domain bw) (:objects a b c d e f) (:init (handempty) (ontable a) (ontable b)
      (ontable c) (ontable d) (ontable e) (ontable f) (clear a) (clear b) (clear c) (clear d) (clear e) (clear f))
      (:goal (and (on a b) (on b c) (on c d) (on d e) (on e f))))`;
    expect(check('', pddl).reason).toBe('goal not reached after 0 steps: (on a b), (on b c), (on c d), (on d e) and 1 more do not hold');
  });

  it('stops at 100,000 steps', () => {
    const loop = '(pick-up a) (put-down a)\n'.repeat(50_001);
    expect(check(loop)).toMatchObject({ valid: false, failingStep: 100_001, reason: 'plan longer than 100000 steps' });
  });
});

/** Breadth-first search: the reference for optimal plan length on small tasks. */
function bfsLength(task: Task): number {
  const n = task.names.length;
  const holds = (s: number[]) =>
    task.goal.every((g) => {
      const held = s.indexOf(HELD);
      const clear = (x: number) => s[x] !== HELD && !s.includes(x);
      return [s[g.a] === g.b, s[g.a] === TABLE, clear(g.a), held < 0, held === g.a][g.pred];
    });
  let frontier = [Array.from(task.below)];
  const seen = new Set([frontier[0]!.join()]);
  for (let depth = 0; frontier.length > 0; depth++) {
    const next: number[][] = [];
    for (const s of frontier) {
      if (holds(s)) return depth;
      const held = s.indexOf(HELD);
      const succ: number[][] = [];
      for (let x = 0; x < n; x++) {
        const clear = s[x] !== HELD && !s.includes(x);
        if (held < 0 && clear) succ.push(s.map((v, i) => (i === x ? HELD : v)));
        if (held === x) {
          succ.push(s.map((v, i) => (i === x ? TABLE : v)));
          for (let y = 0; y < n; y++) if (y !== x && s[y] !== HELD && !s.includes(y)) succ.push(s.map((v, i) => (i === x ? y : v)));
        }
      }
      for (const t of succ) {
        const k = t.join();
        if (!seen.has(k)) {
          seen.add(k);
          next.push(t);
        }
      }
    }
    frontier = next;
  }
  return -1;
}

/** A random consistent state, optionally with a block in the hand. */
function randomState(rng: Rng, n: number, allowHeld: boolean): number[] {
  const below = Array.from(randomTask(rng, Math.max(2, n)).below).slice(0, n);
  const s = below.map((v) => (v >= n ? TABLE : v));
  // make sure no two blocks share a support after the cut, and that towers stay acyclic
  const used = new Set<number>();
  for (let x = 0; x < n; x++) {
    if (s[x]! >= 0 && used.has(s[x]!)) s[x] = TABLE;
    if (s[x]! >= 0) used.add(s[x]!);
  }
  if (allowHeld && rng.next() < 0.3) {
    const top = s.findIndex((_, x) => !s.includes(x));
    if (top >= 0) s[top] = HELD;
  }
  return s;
}

/** A random satisfiable goal: a random subset of the atoms true in a random state. */
function randomGoal(rng: Rng, n: number): Atom[] {
  const s = randomState(rng, n, true);
  const held = s.indexOf(HELD);
  const atoms: Atom[] = [];
  for (let x = 0; x < n; x++) {
    if (s[x]! >= 0) atoms.push({ pred: ON, a: x, b: s[x]! });
    if (s[x] === TABLE) atoms.push({ pred: 1, a: x, b: NONE });
    if (s[x] !== HELD && !s.includes(x)) atoms.push({ pred: 2, a: x, b: NONE });
  }
  atoms.push(held < 0 ? { pred: 3, a: NONE, b: NONE } : { pred: 4, a: held, b: NONE });
  const goal = rng.shuffle(atoms).slice(0, rng.int(1, Math.min(atoms.length, 5)));
  return goal;
}

/** Tasks of 1–5 blocks, any initial state (hand included), goals over every predicate. */
function randomTasks(seed: number, count: number): Task[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const n = rng.int(1, 5);
    return { names: 'abcde'.slice(0, n).split(''), below: Int16Array.from(randomState(rng, n, true)), goal: randomGoal(rng, n) };
  });
}

describe('blocksworld unstack-stack plans', () => {
  it('are valid on 400 random tasks with goals over every predicate; each block moves at most twice', () => {
    for (const task of randomTasks(7, 400)) {
      const n = task.names.length;
      const plan = unstackStackPlan(task);
      const text = plan.map((a) => formatAction(a, task.names)).join('\n');
      expect(validatePlan(compile(task), text), text).toMatchObject({ valid: true });
      expect(plan.length).toBeLessThanOrEqual(4 * n + 1);
    }
  });

  it('are the gold plans of generated problems: everything to the table, then the goal towers bottom-up', () => {
    for (let i = 0; i < 30; i++) {
      const p = blocksworld.generate(problemSeed(5, i), 6);
      const optimal = bfsLength(taskFromData(p.data));
      expect(p.goldSteps.length).toBeGreaterThanOrEqual(optimal);
      expect(p.goldSteps.length).toBeLessThanOrEqual(4 * 6);
    }
    // init: c on a, b alone; goal: a on b. The first tower with two blocks is taken down, then
    // the chain b a is built.
    const task: Task = { names: ['a', 'b', 'c'], below: Int16Array.from([TABLE, TABLE, 0]), goal: [{ pred: ON, a: 0, b: 1 }] };
    expect(unstackStackPlan(task).map((a) => formatAction(a, task.names))).toEqual(['(unstack c a)', '(put-down c)', '(pick-up a)', '(stack a b)']);
  });
});

describe('blocksworld optimal solver', () => {
  it('matches breadth-first search on 400 random tasks with goals over every predicate', () => {
    for (const task of randomTasks(99, 400)) {
      const plan = solveOptimal(task);
      expect(plan).not.toBeNull();
      expect(plan!.length).toBe(bfsLength(task));
      const text = plan!.map((a) => formatAction(a, task.names)).join('\n');
      expect(validatePlan(compile(task), text).valid).toBe(true);
    }
  });

  it('rejects unsolvable goals with a reason', () => {
    const task = parseProblem(SMALL.replace('(on a b))', '(on a b) (on b a))')).task;
    expect(() => problemFromTask(task, 'cyc')).toThrow(/cyc: unsolvable goal: the goal stacks a in a cycle/);
    const twoOnOne = parseProblem(SMALL.replace('(on a b))', '(on a b) (on c b))')).task;
    expect(() => problemFromTask(twoOnOne, 'x')).toThrow(/two blocks cannot be on b/);
    const clearUnder = parseProblem(SMALL.replace('(on a b))', '(on a b) (clear b))')).task;
    expect(() => problemFromTask(clearUnder, 'x')).toThrow(/b cannot be clear/);
  });
});

describe('blocksworld generator', () => {
  const GRADES = [2, 3, 4, 5, 6, 7];

  it('is deterministic for (seed, difficulty)', () => {
    for (const d of [2, 5, 8, MAX_BLOCKS]) {
      const a = blocksworld.generate(1234, d);
      expect(blocksworld.generate(1234, d)).toEqual(a);
      expect(a.id).toBe(`blocksworld-${d}-1234`);
      expect(a.difficulty).toBe(d);
    }
    const prompts = new Set(Array.from({ length: 50 }, (_, i) => blocksworld.generate(problemSeed(3, i), 6).prompt));
    expect(prompts.size).toBeGreaterThan(45);
  });

  it.each(GRADES)('gold plans of 1,000 problems with %i blocks are graded correct', (n) => {
    for (let i = 0; i < 1000; i++) {
      const p = blocksworld.generate(problemSeed(n, i), n);
      const completion = blocksworld.goldCompletion(p);
      expect(completion.split('\n')).toEqual(p.goldSteps);
      const v = blocksworld.verify(p, completion);
      if (v.verdict !== 'correct') expect({ id: p.id, v }).toBeNull();
      expect(v.depth).toBe(p.goldSteps.length);
      // The last note shows the final towers: every goal atom (on x y) holds in them.
      const towers = p.goldSteps.at(-1)!.split(' ; ')[1]!.split(' | ').map((t) => t.split(' '));
      for (const atom of p.data.goal) {
        const [, x, y] = atom.slice(1, -1).split(' ');
        expect(towers.some((t) => t.indexOf(x!) === t.indexOf(y!) + 1 && t.includes(y!)), `${p.id} ${atom}`).toBe(true);
      }
    }
  });

  it('more blocks make longer plans', () => {
    const means = [2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => {
      let total = 0;
      for (let i = 0; i < 150; i++) total += blocksworld.generate(problemSeed(77, i), n).goldSteps.length;
      return total / 150;
    });
    for (let k = 1; k < means.length; k++) expect(means[k]).toBeGreaterThan(means[k - 1]! + 1);
  });

  it('makes PlanBench-like problems: hand empty, partial `on` goals not already true', () => {
    for (let i = 0; i < 300; i++) {
      const n = 2 + (i % 9);
      const p = blocksworld.generate(problemSeed(8, i), n);
      expect(p.data.holding).toBeNull();
      expect(p.data.blocks).toEqual('abcdefghij'.slice(0, n).split(''));
      expect(p.data.goal.length).toBeGreaterThan(0);
      expect(p.data.goal.every((g) => /^\(on [a-j] [a-j]\)$/.test(g))).toBe(true);
      expect(p.goldSteps.length).toBeGreaterThan(0);
      expect(taskFromData(p.data)).toEqual(taskFromData(dataFromTask(taskFromData(p.data))));
    }
  });

  it('rejects difficulties outside the range', () => {
    expect(blocksworld.difficulty).toEqual({ name: 'blocks', min: 2, max: MAX_BLOCKS });
    for (const d of [0, 1, MAX_BLOCKS + 1, 2.5, NaN]) expect(() => blocksworld.generate(1, d)).toThrow(/blocks/);
  });

  it('writes a compact prompt: towers bottom to top, goal atoms, then the plan', () => {
    const p = problemFromPddl(SMALL, 'small');
    expect(p.prompt).toBe('init: a | b c\ngoal: (on a b)\nplan:\n');
    expect(blocksworld.goldCompletion(p)).toBe(GOLD);
    const held = problemFromPddl(
      `(define (problem p) (:domain bw) (:objects x y z) (:init (holding z) (ontable y) (on x y) (clear x)) (:goal (and (on z x) (handempty))))`,
      'held',
    );
    expect(held.prompt).toBe('init: y x\nhand: z\ngoal: (on z x) (handempty)\nplan:\n');
    expect(held.goldSteps).toEqual(['(put-down z) ; y x | z', '(unstack x y)', '(put-down x) ; x | y | z', '(pick-up z)', '(stack z x) ; x z | y']);
  });

  it('fits prompt and annotated plan of 3–6 blocks in a short context (in tokens of the domain words)', () => {
    const tokenizer = new CharTokenizer(undefined, [...blocksworld.words!]);
    for (const [n, limit] of [[3, 96], [4, 128], [5, 176], [6, 224]] as const) {
      const lengths = Array.from({ length: 200 }, (_, i) => {
        const p = blocksworld.generate(problemSeed(9, i), n);
        return tokenizer.encode(p.prompt + blocksworld.goldCompletion(p)).length;
      }).sort((a, b) => a - b);
      expect(lengths[Math.floor(lengths.length * 0.95)]).toBeLessThanOrEqual(limit);
    }
  });
});

describe('blocksworld verify', () => {
  const P: Problem<BlocksworldData> = problemFromPddl(SMALL, 'small');
  const grade = (response: string) => blocksworld.verify(P, response);

  it.each([
    GOLD,
    GOLD + '\n',
    '\n\n' + GOLD.replace(/\n/g, '\n\n') + '\n\n',
    GOLD.toUpperCase(),
    PLAIN,
    PLAIN.replace('(put-down c)', '(put-down c) ; drop it'),
    PLAIN.replace('(put-down c)', '(put-down c);a wrong note: notes are not checked'),
    '  (unstack  c  b)  \n(put-down c)\r\n(pick-up a)\n\t(stack a b)',
  ])('accepts the plan %j', (response) => expect(grade(response)).toEqual({ verdict: 'correct', depth: 4 }));

  it.each([
    ['(unstack c b) (put-down c)\n(pick-up a)\n(stack a b)', 3, /step 1: not a single action/],
    ['0: (unstack c b) [1]\n1: (put-down c) [1]\n2: (pick-up a) [1]\n3: (stack a b) [1]', 4, /step 1: not a single action/],
    [PLAIN.replace('(put-down c)', '(put-down c)\n; a note on a line of its own'), 5, /step 3: not a single action/],
    [PLAIN.replace('(put-down c)', '(put-down c) (pick-up a) ; two actions'), 4, /step 2: not a single action/],
    [PLAIN.replace('(put-down c)', '(put-down c) # not a comment'), 4, /step 2: not a single action/],
    ['1. (unstack c b)\n2. (put-down c)\n3. (pick-up a)\n4. (stack a b)', 4, /step 1: not a single action/],
    [GOLD.replace('(pick-up a)', 'then\n(pick-up a)'), 5, /step 3: not a single action: "then"/],
    ['(unstack c b)\n(put-down c)', 2, /goal not reached after 2 steps/],
    ['(pick-up a)\n(stack a b)', 2, /step 2: precondition of \(stack a b\) not satisfied: \(clear b\)/],
    ['(unstack c b)\n(put-down c)\n(pick-up a)\n(stack a z)', 4, /step 4: unknown object 'z'/],
    [GOLD + '\n#### done', 4, /unexpected final-answer line/],
    ['#### (unstack c b)', 0, /unexpected final-answer line/],
    ['', 0, /goal not reached after 0 steps/],
  ])('rejects %j', (response, depth, reason) => {
    const v = grade(response);
    expect(v.verdict).toBe('wrong');
    expect(v.depth).toBe(depth);
    expect(v.reason).toMatch(reason);
  });

  it('applies the shared refusal rules', () => {
    expect(grade(REFUSAL)).toEqual({ verdict: 'idk', depth: 0 });
    expect(grade(refusalCompletion(P.goldSteps, 2))).toEqual({ verdict: 'idk', depth: 2 });
    // A refusal after a full correct plan is idk: the refusal decides, whatever came before.
    expect(grade(GOLD + '\n' + REFUSAL)).toEqual({ verdict: 'idk', depth: 4 });
    expect(grade(GOLD + "\nI don't know if this is right")).toEqual({ verdict: 'idk', depth: 4 });
    // A refusal before a plan: the steps after it are not read.
    expect(grade(REFUSAL + '\n' + GOLD)).toEqual({ verdict: 'idk', depth: 0 });
    expect(grade(GOLD + '\n' + REFUSAL + '\n#### 4').verdict).toBe('wrong');
    expect(grade(GOLD + '\n' + 'x'.repeat(70_000)).verdict).toBe('wrong');
  });

  it('never credits a plan that only works if bad lines are skipped', () => {
    const lines = GOLD.split('\n');
    for (let k = 0; k <= lines.length; k++) {
      for (const junk of ['ok', '-', '()', '(noop)', '(pick-up)', '(unstack c b b)', '(stack a b) (stack a b)', '[1]', ';', '\u200b']) {
        const response = [...lines.slice(0, k), junk, ...lines.slice(k)].join('\n');
        expect(grade(response).verdict).toBe('wrong');
      }
    }
  });

  it('grades a problem given as plain JSON (as read back from a dataset) and bad data as wrong', () => {
    const copy = JSON.parse(JSON.stringify(P)) as Problem<BlocksworldData>;
    expect(blocksworld.verify(copy, GOLD).verdict).toBe('correct');
    const broken = { ...copy, data: { ...copy.data, towers: [['a'], ['q']] } };
    expect(blocksworld.verify(broken, GOLD)).toMatchObject({ verdict: 'wrong', reason: /invalid problem data/ });
  });
});
