/** Problems from tasks (generated or imported from PDDL) and their grading. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Problem, Verdict } from '../types.js';
import { parseResponse, preVerdict } from '../response.js';
import { dataFromTask, formatPrompt, formatTowers, taskFromData, type BlocksworldData } from './format.js';
import { parseProblem } from './pddl.js';
import { HELD, formatAction, goalConflict, positionAfter, towersOf, type Action, type Task } from './state.js';
import { unstackStackPlan } from './unstack-stack.js';
import { compile, validateSteps, type CompiledTask } from './validate.js';

export const DOMAIN_NAME = 'blocksworld';

/** A problem for `task` with its unstack-stack plan as gold steps; throws when the goal is
 * unsatisfiable. */
export function problemFromTask(task: Task, id: string): Problem<BlocksworldData> {
  const conflict = goalConflict(task.names.length, task.goal, task.names);
  if (conflict !== null) throw new Error(`${id}: unsolvable goal: ${conflict}`);
  const plan = unstackStackPlan(task);
  const data = dataFromTask(task);
  return {
    id,
    domain: DOMAIN_NAME,
    difficulty: task.names.length,
    prompt: formatPrompt(data),
    goldSteps: annotatedSteps(task, plan),
    goldAnswer: null,
    data,
  };
}

/** The plan's actions, one per step, each put-down and stack followed by a note of the towers it
 * leaves, `(stack b a) ; a b | c` (the prompt's tower notation). The note is a PDDL comment, so
 * the plan reads the same to any validator; it spells out the state the next action depends on,
 * which a small model otherwise has to reconstruct from the whole plan so far (measured: it learns
 * several times faster with the notes). */
export function annotatedSteps(task: Task, plan: readonly Action[]): string[] {
  const below = Int16Array.from(task.below);
  return plan.map((a) => {
    const action = formatAction(a, task.names);
    below[a.x] = positionAfter(a);
    return below[a.x] === HELD ? action : `${action} ; ${formatTowers(towersOf(below), task.names)}`;
  });
}

/** A problem from the text of a PDDL problem file (difficulty = number of blocks). Throws
 * `PddlError` for malformed PDDL. */
export function problemFromPddl(text: string, id: string): Problem<BlocksworldData> {
  return problemFromTask(parseProblem(text).task, id);
}

/** A problem from a PDDL problem file; the id is the file name without `.pddl`. */
export function problemFromPddlFile(path: string): Problem<BlocksworldData> {
  return problemFromPddl(readFileSync(path, 'utf8'), basename(path).replace(/\.pddl$/i, ''));
}

const compiled = new WeakMap<BlocksworldData, CompiledTask>();

/** The compiled task of a problem, built once per data object. */
export function compiledTask(data: BlocksworldData): CompiledTask {
  let c = compiled.get(data);
  if (c === undefined) {
    c = compile(taskFromData(data));
    compiled.set(data, c);
  }
  return c;
}

/** Grades a response: the shared rules first (over-long, refusal → idk, hedge), then a `####`
 * line is wrong (plans have no final answer), then the step lines must form a plan that is
 * valid, one action per line, and reaches the goal. A refusal after a complete plan is idk (the
 * shared rule: the refusal decides), with depth = the plan's steps. */
export function verifyPlan(problem: Problem<BlocksworldData>, response: string): Verdict {
  const parsed = parseResponse(response);
  const pre = preVerdict(parsed);
  if (pre !== null) return pre;
  const depth = parsed.steps.length;
  if (parsed.answer !== null) return { verdict: 'wrong', depth, reason: 'unexpected final-answer line (#### …): a plan has no final answer' };
  let task: CompiledTask;
  try {
    task = compiledTask(problem.data);
  } catch (err) {
    return { verdict: 'wrong', depth, reason: `invalid problem data: ${err instanceof Error ? err.message : String(err)}` };
  }
  const check = validateSteps(task, parsed.steps);
  if (check.valid) return { verdict: 'correct', depth };
  return { verdict: 'wrong', depth, reason: check.reason };
}
