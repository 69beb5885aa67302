/** Plan validation: scan the text, simulate each action, check the goal, stop at the first
 * failing step. One pass with a hand-written scanner over char codes and a per-task compiled
 * form (name tries, typed-array state), because validation runs millions of times in training.
 *
 * Strictness: every character must belong to an action, a comment (plan files only), whitespace
 * or an IPC timestamp / duration (plan files only). Any other text fails the plan at the step it
 * stands in; nothing is skipped, so text cannot hide a step or be mistaken for one.
 *
 * Conventions: `failingStep` is 1-based and null only for a valid plan. A plan whose actions all
 * apply but leave the goal unmet fails at step `actions + 1` (the step that is missing), so
 * `valid === (failingStep === null)` always holds. */
import {
  HANDEMPTY, HELD, NONE, ON, OPERATOR_ARITY, OPERATORS, PICK_UP, PUT_DOWN, STACK, TABLE, CLEAR,
  ONTABLE, HOLDING, atomHolds, fillAbove, formatAction, formatAtom, heldBlock, type Atom, type Task,
} from './state.js';
import { NAME_CHAR, buildTrie, trieStep, type Trie } from './trie.js';

/** Plans longer than this fail without further simulation (bounded work on any input). */
export const MAX_PLAN_STEPS = 100_000;

export interface PlanCheck {
  valid: boolean;
  failingStep: number | null;
  reason: string;
  /** Actions read and applied successfully. */
  steps: number;
}

/** A task prepared for fast validation. Holds scratch state: validations must not interleave
 * (they cannot: validation is synchronous). */
export interface CompiledTask {
  task: Task;
  n: number;
  objects: Trie;
  init: Int16Array;
  initHeld: number;
  /** Goal atoms flattened as (pred, a, b) triples. */
  goal: Int16Array;
  below: Int16Array;
  above: Int16Array;
  held: number;
}

const OPERATOR_TRIE = buildTrie(OPERATORS);

export function compile(task: Task): CompiledTask {
  const n = task.names.length;
  const goal = new Int16Array(task.goal.length * 3);
  task.goal.forEach((g, i) => {
    goal[3 * i] = g.pred;
    goal[3 * i + 1] = g.a;
    goal[3 * i + 2] = g.b;
  });
  return {
    task,
    n,
    objects: buildTrie(task.names),
    init: Int16Array.from(task.below),
    initHeld: heldBlock(task.below),
    goal,
    below: new Int16Array(n),
    above: new Int16Array(n),
    held: NONE,
  };
}

function reset(c: CompiledTask): void {
  c.below.set(c.init);
  fillAbove(c.below, c.above);
  c.held = c.initHeld;
}

/** Applies one action if its preconditions hold. */
function apply(c: CompiledTask, op: number, x: number, y: number): boolean {
  const below = c.below;
  const above = c.above;
  if (op === PICK_UP) {
    if (c.held !== NONE || below[x] !== TABLE || above[x] !== NONE) return false;
    below[x] = HELD;
    c.held = x;
  } else if (op === PUT_DOWN) {
    if (c.held !== x) return false;
    below[x] = TABLE;
    c.held = NONE;
  } else if (op === STACK) {
    if (c.held !== x || above[y] !== NONE || below[y] === HELD) return false;
    below[x] = y;
    above[y] = x;
    c.held = NONE;
  } else {
    if (below[x] !== y || above[x] !== NONE || c.held !== NONE) return false;
    below[x] = HELD;
    above[y] = NONE;
    c.held = x;
  }
  return true;
}

function goalReached(c: CompiledTask): boolean {
  const g = c.goal;
  const below = c.below;
  for (let i = 0; i < g.length; i += 3) {
    const a = g[i + 1]!;
    switch (g[i]) {
      case ON: if (below[a] !== g[i + 2]) return false; break;
      case ONTABLE: if (below[a] !== TABLE) return false; break;
      case CLEAR: if (c.above[a] !== NONE || below[a] === HELD) return false; break;
      case HANDEMPTY: if (c.held !== NONE) return false; break;
      default: if (c.held !== a) return false;
    }
  }
  return true;
}

// Output of `scanAction` (module scope: no allocation per action).
let sOp = -1;
let sArgc = 0;
let sX = -1;
let sY = -1;
/** Start and end of the first argument that is not an object, or -1. */
let sBadStart = -1;
let sBadEnd = -1;
let sNameEnd = 0;

function isBlank(ch: number): boolean {
  return ch === 32 || ch === 9;
}

/** Scans `(name arg …)` starting at the `(` at `i`; returns the index after `)`, or -1 when the
 * text there is not an action of that shape (on one line). Unknown names are reported through
 * sOp = -1 / sBadStart, not as a syntax error, so the reason can name them. */
function scanAction(c: CompiledTask, text: string, i: number, end: number): number {
  i++;
  while (i < end && isBlank(text.charCodeAt(i))) i++;
  let node = 0;
  const nameStart = i;
  while (i < end) {
    const ch = text.charCodeAt(i);
    if (ch >= 128 || NAME_CHAR[ch]! < 0) break;
    node = trieStep(OPERATOR_TRIE, node, ch);
    i++;
  }
  if (i === nameStart) return -1;
  sNameEnd = i;
  sOp = node < 0 ? -1 : OPERATOR_TRIE.value[node]!;
  sArgc = 0;
  sX = -1;
  sY = -1;
  sBadStart = -1;
  const objects = c.objects;
  for (;;) {
    if (i >= end) return -1;
    let ch = text.charCodeAt(i);
    if (ch === 41 /* ) */) return i + 1;
    if (!isBlank(ch)) return -1;
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i >= end) return -1;
    ch = text.charCodeAt(i);
    if (ch === 41) return i + 1;
    const argStart = i;
    node = 0;
    while (i < end) {
      const d = text.charCodeAt(i);
      if (d >= 128 || NAME_CHAR[d]! < 0) break;
      node = trieStep(objects, node, d);
      i++;
    }
    if (i === argStart) return -1;
    const k = node < 0 ? -1 : objects.value[node]!;
    if (k < 0 && sBadStart < 0) {
      sBadStart = argStart;
      sBadEnd = i;
    }
    if (sArgc === 0) sX = k;
    else if (sArgc === 1) sY = k;
    sArgc++;
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}

/** Why the action just scanned cannot be applied (unknown name, arity), or null. */
function semanticError(text: string, start: number, end: number): string | null {
  if (sOp >= 0 && sArgc === OPERATOR_ARITY[sOp] && sBadStart < 0) return null;
  const action = text.slice(start, end);
  if (sOp < 0) {
    const name = text.slice(start + 1, sNameEnd).trim().toLowerCase();
    return `unknown action '${name}' in ${quote(action)} (expected pick-up, put-down, stack or unstack)`;
  }
  const arity = OPERATOR_ARITY[sOp]!;
  if (sArgc !== arity) {
    return `wrong number of arguments in ${quote(action)}: ${OPERATORS[sOp]} takes ${arity}, got ${sArgc}`;
  }
  return `unknown object '${text.slice(sBadStart, sBadEnd).toLowerCase()}' in ${quote(action)}`;
}

const PRECONDITIONS: ReadonlyArray<ReadonlyArray<[pred: number, arg: 'x' | 'y' | 'xy' | '']>> = [
  [[CLEAR, 'x'], [ONTABLE, 'x'], [HANDEMPTY, '']],
  [[HOLDING, 'x']],
  [[CLEAR, 'y'], [HOLDING, 'x']],
  [[ON, 'xy'], [CLEAR, 'x'], [HANDEMPTY, '']],
];

function unmetPreconditions(c: CompiledTask, op: number, x: number, y: number): string {
  const unmet: string[] = [];
  for (const [pred, arg] of PRECONDITIONS[op]!) {
    const atom: Atom = { pred, a: arg === 'y' ? y : arg === '' ? NONE : x, b: arg === 'xy' ? y : NONE };
    if (!atomHolds(atom, c.below, c.above, c.held)) unmet.push(formatAtom(atom, c.task.names));
  }
  const action = formatAction({ op, x, y }, c.task.names);
  return `precondition${unmet.length > 1 ? 's' : ''} of ${action} not satisfied: ${unmet.join(', ')}`;
}

function unmetGoal(c: CompiledTask): string {
  const unmet: string[] = [];
  for (const g of c.task.goal) {
    if (!atomHolds(g, c.below, c.above, c.held)) unmet.push(formatAtom(g, c.task.names));
  }
  const shown = unmet.slice(0, 4).join(', ') + (unmet.length > 4 ? ` and ${unmet.length - 4} more` : '');
  return `${shown} ${unmet.length === 1 ? 'does' : 'do'} not hold`;
}

function failure(step: number, steps: number, reason: string): PlanCheck {
  return { valid: false, failingStep: step, reason, steps };
}

function finish(c: CompiledTask, steps: number): PlanCheck {
  if (goalReached(c)) return { valid: true, failingStep: null, reason: `goal reached after ${steps} step${steps === 1 ? '' : 's'}`, steps };
  return failure(steps + 1, steps, `goal not reached after ${steps} step${steps === 1 ? '' : 's'}: ${unmetGoal(c)}`);
}

function isDigit(ch: number): boolean {
  return ch >= 48 && ch <= 57;
}

/** `digits[.digits]` at i; returns the index after it or -1. */
function scanNumber(text: string, i: number, end: number): number {
  const start = i;
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  if (i === start) return -1;
  if (i < end && text.charCodeAt(i) === 46 /* . */) {
    const frac = ++i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    if (i === frac) return -1;
  }
  return i;
}

function lineEnd(text: string, i: number): number {
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || ch === 13) break;
    i++;
  }
  return i;
}

function unparsable(text: string, lineStart: number, end: number, line: number, steps: number): PlanCheck {
  return failure(steps + 1, steps, `line ${line}: unparsable text ${quote(text.slice(lineStart, end).trim())}`);
}

/** Validates a plan file: actions anywhere on a line, several to a line, IPC timestamps
 * `0: (unstack b a) [1]`, blank lines and `;` comments. */
export function validatePlan(c: CompiledTask, text: string): PlanCheck {
  reset(c);
  const len = text.length;
  let i = len > 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  let end = lineEnd(text, i); // end of the current line, found once per line
  let steps = 0;
  while (i < len) {
    const ch = text.charCodeAt(i);
    if (isBlank(ch)) {
      i++;
      continue;
    }
    if (ch === 10 || ch === 13) {
      i += ch === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      line++;
      lineStart = i;
      end = lineEnd(text, i);
      continue;
    }
    if (ch === 59 /* ; */) {
      i = end;
      continue;
    }
    let p = i;
    if (isDigit(ch)) {
      // IPC timestamp `t:` in front of an action
      p = scanNumber(text, p, end);
      if (p < 0) return unparsable(text, lineStart, end, line, steps);
      while (p < end && isBlank(text.charCodeAt(p))) p++;
      if (p >= end || text.charCodeAt(p) !== 58 /* : */) return unparsable(text, lineStart, end, line, steps);
      p++;
      while (p < end && isBlank(text.charCodeAt(p))) p++;
    }
    if (p >= end || text.charCodeAt(p) !== 40 /* ( */) return unparsable(text, lineStart, end, line, steps);
    if (steps >= MAX_PLAN_STEPS) return failure(steps + 1, steps, `plan longer than ${MAX_PLAN_STEPS} steps`);
    const q = scanAction(c, text, p, end);
    if (q < 0) return unparsable(text, lineStart, end, line, steps);
    const bad = semanticError(text, p, q);
    if (bad !== null) return failure(steps + 1, steps, `line ${line}: ${bad}`);
    if (!apply(c, sOp, sX, sY)) return failure(steps + 1, steps, `line ${line}: ${unmetPreconditions(c, sOp, sX, sY)}`);
    steps++;
    i = q;
    // IPC duration `[d]` after an action
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i < end && text.charCodeAt(i) === 91 /* [ */) {
      const r = scanNumber(text, i + 1, end);
      if (r < 0 || r >= end || text.charCodeAt(r) !== 93 /* ] */) return unparsable(text, lineStart, end, line, steps);
      i = r + 1;
    }
  }
  return finish(c, steps);
}

/** Validates the step lines of a model response: exactly one action per line (the training
 * format), optionally followed by a `;` comment (the gold plans note the state there; notes are
 * not checked, as in plan files), nothing else on the line; `depth` then equals the number of
 * actions. Reasons name the step. */
export function validateSteps(c: CompiledTask, lines: readonly string[]): PlanCheck {
  reset(c);
  const count = Math.min(lines.length, MAX_PLAN_STEPS);
  for (let k = 0; k < count; k++) {
    const text = lines[k]!;
    let end = text.length;
    while (end > 0 && isBlank(text.charCodeAt(end - 1))) end--;
    let p = 0;
    while (p < end && isBlank(text.charCodeAt(p))) p++;
    const q = text.charCodeAt(p) === 40 ? scanAction(c, text, p, end) : -1;
    if (q >= 0 && q < end) {
      let r = q;
      while (r < end && isBlank(text.charCodeAt(r))) r++;
      if (r < end && text.charCodeAt(r) === 59 /* ; */) end = q;
    }
    if (q !== end) return failure(k + 1, k, `step ${k + 1}: not a single action: ${quote(text.trim())}`);
    const bad = semanticError(text, p, q);
    if (bad !== null) return failure(k + 1, k, `step ${k + 1}: ${bad}`);
    if (!apply(c, sOp, sX, sY)) return failure(k + 1, k, `step ${k + 1}: ${unmetPreconditions(c, sOp, sX, sY)}`);
  }
  if (lines.length > MAX_PLAN_STEPS) return failure(MAX_PLAN_STEPS + 1, MAX_PLAN_STEPS, `plan longer than ${MAX_PLAN_STEPS} steps`);
  return finish(c, count);
}
