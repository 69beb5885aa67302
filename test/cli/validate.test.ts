import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProblem, solveOptimal } from '../../src/domains/blocksworld/index.js';
import { formatAction } from '../../src/domains/blocksworld/state.js';

const BIN = fileURLToPath(new URL('../../bin/ceiling.js', import.meta.url));
const DATA = fileURLToPath(new URL('../../../shared/data/planbench-blocksworld/', import.meta.url));
const REAL = `${DATA}problems/basic-instance-16.pddl`;

const dir = mkdtempSync(join(tmpdir(), 'ceiling-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(text: string): string {
  const path = join(dir, `f${files++}.txt`);
  writeFileSync(path, text);
  return path;
}

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const validate = (problem: string, plan: string) => run('validate', '--domain', 'blocksworld', '--problem', problem, '--plan', plan);

/** a, b on the table, c on b; goal (on a b). */
const SMALL = file(`(define (problem small) (:domain blocksworld-4ops) (:objects a b c)
(:init (handempty) (ontable a) (ontable b) (on c b) (clear a) (clear c))
(:goal (and (on a b))))`);

/** Exactly one JSON line on stdout, nothing on stderr. */
function verdict(r: ReturnType<typeof run>): unknown {
  expect(r.stderr).toBe('');
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  expect(Object.keys(out)).toEqual(['valid', 'failingStep', 'reason']);
  return out;
}

describe('ceiling validate', () => {
  it('a valid plan: exit 0, failingStep null', () => {
    const r = validate(SMALL, file('(unstack c b)\n(put-down c)\n(pick-up a)\n(stack a b)\n'));
    expect(r.status).toBe(0);
    expect(verdict(r)).toEqual({ valid: true, failingStep: null, reason: 'goal reached after 4 steps' });
  });

  it('accepts IPC timestamps, several actions a line, comments, any case', () => {
    const r = validate(SMALL, file('; found by hand\n0: (UNSTACK C B) [1]\n1: (put-down c) [1]\r\n(pick-up a) (stack a b) ; done'));
    expect(r.status).toBe(0);
    expect(verdict(r)).toMatchObject({ valid: true });
  });

  it.each([
    ['(pick-up a)\n(stack a b)\n', 2, /precondition of \(stack a b\) not satisfied: \(clear b\)/],
    ['(unstack c b)\n(put-down c)\n', 3, /goal not reached after 2 steps: \(on a b\) does not hold/],
    ['', 1, /goal not reached after 0 steps/],
    ['(unstack c b)\n1. (put-down c)\n(pick-up a)\n(stack a b)\n', 2, /line 2: unparsable text "1. \(put-down c\)"/],
    ['(unstack c b)\n(put-down c)\n(pick-up a)\n(stack a b))\n', 5, /line 4: unparsable/],
    ['(fly c b)\n', 1, /unknown action 'fly'/],
    ['(unstack c)\n', 1, /unstack takes 2, got 1/],
    ['(unstack c q)\n', 1, /unknown object 'q'/],
    ['Unstack c from b, then put it down.\n', 1, /unparsable/],
  ])('an invalid plan %j: exit 1 with the failing step', (plan, step, reason) => {
    const r = validate(SMALL, file(plan));
    expect(r.status).toBe(1);
    const out = verdict(r) as { valid: boolean; failingStep: number; reason: string };
    expect(out.valid).toBe(false);
    expect(out.failingStep).toBe(step);
    expect(out.reason).toMatch(reason);
  });

  it('an empty plan for a goal that already holds is valid', () => {
    const done = file(readFileSync(SMALL, 'utf8').replace('(on a b)', '(on c b)'));
    const r = validate(done, file(''));
    expect(r.status).toBe(0);
    expect(verdict(r)).toMatchObject({ valid: true, failingStep: null });
  });

  it('validates the optimal plan of a real PlanBench problem', () => {
    const { task } = parseProblem(readFileSync(REAL, 'utf8'));
    const plan = solveOptimal(task)!.map((a) => formatAction(a, task.names)).join('\n');
    expect(validate(REAL, file(plan)).status).toBe(0);
    expect(validate(REAL, file(plan.split('\n').slice(1).join('\n'))).status).toBe(1);
  });

  it.each([
    [['--problem', 'no-such.pddl', '--plan', 'PLAN'], /cannot read --problem file 'no-such.pddl': no such file/],
    [['--problem', 'SMALL', '--plan', 'no-such.txt'], /cannot read --plan file 'no-such.txt': no such file/],
    [['--problem', 'DIR', '--plan', 'PLAN'], /--problem '.*' is a directory/],
    [['--problem', 'DOMAIN', '--plan', 'PLAN'], /malformed PDDL in '.*domain.pddl': line 1: this is a domain file, not a problem file/],
    [['--problem', 'BAD', '--plan', 'PLAN'], /malformed PDDL in '.*': line 2: unknown predicate 'on-table'/],
    [['--problem', 'UNCLOSED', '--plan', 'PLAN'], /malformed PDDL in '.*': line 1: '\(' opened here is never closed/],
    [['--problem', 'EMPTY', '--plan', 'PLAN'], /malformed PDDL in '.*': empty file/],
    [['--problem', 'PLAN', '--plan', 'PLAN'], /malformed PDDL in '.*': line 1: expected \(define \(problem NAME\)/],
    [['--problem', 'SMALL'], /required option '--plan <file>' not specified/],
  ])('bad input %j: exit 2, one line on stderr', (args, message) => {
    const paths: Record<string, string> = {
      SMALL,
      PLAN: file('(unstack c b)\n'),
      DIR: dir,
      DOMAIN: `${DATA}domain.pddl`,
      BAD: file('(define (problem p) (:domain d) (:objects a)\n(:init (handempty) (on-table a) (clear a)) (:goal (holding a)))'),
      UNCLOSED: file('(define (problem p) (:domain d) (:objects a)'),
      EMPTY: file('   \n'),
    };
    const r = run('validate', '--domain', 'blocksworld', ...args.map((a) => paths[a] ?? a));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--domain', 'chess'], /unknown domain 'chess'/],
    [['--domain', 'logic'], /domain 'logic' has no plan validator/],
  ])('domain %j: exit 2', (args, message) => {
    const r = run('validate', ...args, '--problem', SMALL, '--plan', SMALL);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
