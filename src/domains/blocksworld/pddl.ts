/** PDDL problem files of the 4-operator Blocksworld (PlanBench): objects, init and goal. Accepts
 * any letter case, `;` comments and any whitespace layout; rejects everything else with a
 * `PddlError` whose one-line message names the line and the problem. The initial state must be a
 * complete, consistent Blocksworld state: a validator cannot check a plan against a state that
 * puts a block in two places. */
import {
  CLEAR, HELD, HOLDING, NONE, ON, ONTABLE, PREDICATE_ARITY, PREDICATES, TABLE, formatAtom,
  type Atom, type Task,
} from './state.js';

export class PddlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PddlError';
  }
}

/** Far beyond any Blocksworld benchmark; keeps the dense state arrays small. */
export const MAX_OBJECTS = 1000;
const MAX_DEPTH = 64;

interface Sym { kind: 'sym'; text: string; line: number }
interface List { kind: 'list'; items: Node[]; line: number }
type Node = Sym | List;

const NAME = /^[a-z][a-z0-9_-]*$/;
const SECTIONS = new Set([':domain', ':requirements', ':objects', ':init', ':goal']);

function fail(line: number, message: string): never {
  throw new PddlError(`line ${line}: ${message}`);
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
}

/** Reads the whole text into top-level s-expressions (lowercased symbols). */
function readTree(text: string): Node[] {
  const roots: Node[] = [];
  const stack: List[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      line++;
      i++;
    } else if (isSpace(c)) i++;
    else if (c === 59 /* ; */) {
      while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
    } else if (c === 40 /* ( */) {
      if (stack.length >= MAX_DEPTH) fail(line, `parentheses nested deeper than ${MAX_DEPTH} levels`);
      const list: List = { kind: 'list', items: [], line };
      (stack.length > 0 ? stack[stack.length - 1]!.items : roots).push(list);
      stack.push(list);
      i++;
    } else if (c === 41 /* ) */) {
      if (stack.length === 0) fail(line, "unbalanced ')'");
      stack.pop();
      i++;
    } else {
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 40 || d === 41 || d === 59 || isSpace(d)) break;
        i++;
      }
      const sym: Sym = { kind: 'sym', text: text.slice(start, i).toLowerCase(), line };
      if (stack.length === 0) fail(line, `unexpected text '${clip(sym.text)}' outside parentheses`);
      stack[stack.length - 1]!.items.push(sym);
    }
  }
  if (stack.length > 0) fail(stack[stack.length - 1]!.line, "'(' opened here is never closed");
  return roots;
}

function clip(s: string): string {
  const t = s.length > 40 ? s.slice(0, 40) + '…' : s;
  return JSON.stringify(t).slice(1, -1);
}

function show(node: Node): string {
  if (node.kind === 'sym') return node.text;
  return clip(`(${node.items.map(show).join(' ')})`);
}

function symbol(node: Node | undefined, what: string, line: number): string {
  if (!node) fail(line, `missing ${what}`);
  if (node.kind !== 'sym') fail(node.line, `expected ${what}, got ${show(node)}`);
  return node.text;
}

function checkName(sym: Sym): string {
  if (!NAME.test(sym.text)) fail(sym.line, `'${clip(sym.text)}' is not a valid object name`);
  return sym.text;
}

/** A PDDL problem as read from a file, before any solving. */
export interface PddlProblem {
  /** The name after `(problem …)`. */
  name: string;
  task: Task;
}

export function parseProblem(text: string): PddlProblem {
  const roots = readTree(text);
  if (roots.length === 0) throw new PddlError('empty file: expected (define (problem NAME) …)');
  const root = roots[0] as List;
  if (symbol(root.items[0], "'define'", root.line) !== 'define') fail(root.line, `expected (define (problem NAME) …), got ${show(root)}`);
  if (roots.length > 1) fail(roots[1]!.line, 'unexpected text after the problem definition');
  const head = root.items[1];
  if (!head || head.kind !== 'list') fail(root.line, 'expected (problem NAME) after define');
  const kind = symbol(head.items[0], "'problem'", head.line);
  if (kind === 'domain') fail(head.line, 'this is a domain file, not a problem file');
  if (kind !== 'problem' || head.items.length !== 2) fail(head.line, `expected (problem NAME), got ${show(head)}`);
  const name = symbol(head.items[1], 'a problem name', head.line);

  const sections = new Map<string, List>();
  for (const item of root.items.slice(2)) {
    if (item.kind !== 'list') fail(item.line, `expected a section like (:objects …), got '${clip(item.text)}'`);
    const key = symbol(item.items[0], 'a section keyword', item.line);
    if (!SECTIONS.has(key)) {
      fail(item.line, `unsupported section '${clip(key)}' (expected :domain, :objects, :init or :goal)`);
    }
    if (sections.has(key)) fail(item.line, `duplicate section ${key}`);
    sections.set(key, item);
  }
  for (const key of [':objects', ':init', ':goal']) if (!sections.has(key)) fail(root.line, `missing section ${key}`);

  const names = readObjects(sections.get(':objects')!);
  const index = new Map(names.map((nm, i) => [nm, i]));
  const below = readInit(sections.get(':init')!, names, index);
  const goalSection = sections.get(':goal')!;
  if (goalSection.items.length !== 2) fail(goalSection.line, 'expected exactly one goal formula in :goal');
  const goal: Atom[] = [];
  readGoal(goalSection.items[1]!, index, goal);
  return { name, task: { names, below, goal } };
}

function readObjects(section: List): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  const items = section.items;
  for (let i = 1; i < items.length; i++) {
    const item = items[i]!;
    if (item.kind !== 'sym') fail(item.line, `expected an object name, got ${show(item)}`);
    if (item.text === '-') {
      // typed list `a b - block`: the domain is untyped, the type is skipped
      const type = items[++i];
      if (!type || type.kind !== 'sym') fail(item.line, "expected a type name after '-'");
      continue;
    }
    const nm = checkName(item);
    if (seen.has(nm)) fail(item.line, `object '${nm}' declared twice`);
    seen.add(nm);
    names.push(nm);
    if (names.length > MAX_OBJECTS) fail(item.line, `more than ${MAX_OBJECTS} objects`);
  }
  return names;
}

function readAtom(node: Node, index: Map<string, number>, where: string): Atom & { line: number } {
  if (node.kind !== 'list') fail(node.line, `expected an atom in ${where}, got '${clip(node.text)}'`);
  const pred = symbol(node.items[0], `a predicate in ${where}`, node.line);
  const p = (PREDICATES as readonly string[]).indexOf(pred);
  if (p < 0) {
    if (pred === 'not') fail(node.line, `negative literals are not supported in ${where}: ${show(node)}`);
    fail(node.line, `unknown predicate '${clip(pred)}' in ${where} (expected on, ontable, clear, handempty or holding)`);
  }
  const arity = PREDICATE_ARITY[p]!;
  if (node.items.length - 1 !== arity) {
    fail(node.line, `${show(node)}: ${pred} takes ${arity} argument${arity === 1 ? '' : 's'}, got ${node.items.length - 1}`);
  }
  const args = node.items.slice(1).map((arg) => {
    const s = symbol(arg, 'an object name', node.line);
    const k = index.get(s);
    if (k === undefined) fail(node.line, `unknown object '${clip(s)}' in ${show(node)}`);
    return k;
  });
  return { pred: p, a: args[0] ?? NONE, b: args[1] ?? NONE, line: node.line };
}

/** The initial state: each block on another block, on the table or in the hand; `clear` and
 * `handempty` must agree with that placement. */
function readInit(section: List, names: string[], index: Map<string, number>): Int16Array {
  const n = names.length;
  const below = new Int16Array(n).fill(-3);
  const placedAt = new Int32Array(n);
  const onTop = new Int16Array(n).fill(NONE);
  const clear = new Uint8Array(n);
  let held = NONE;
  let handEmpty = 0;
  const place = (x: number, where: number, line: number, text: string): void => {
    if (below[x] !== -3 && below[x] !== where) {
      fail(line, `${text} conflicts with line ${placedAt[x]}: block ${names[x]} cannot be in two places`);
    }
    below[x] = where;
    placedAt[x] = line;
  };
  for (const node of section.items.slice(1)) {
    const atom = readAtom(node, index, ':init');
    const text = show(node);
    if (atom.pred === ON) {
      if (atom.a === atom.b) fail(atom.line, `${text}: a block cannot be on itself`);
      place(atom.a, atom.b, atom.line, text);
      if (onTop[atom.b] !== NONE && onTop[atom.b] !== atom.a) {
        fail(atom.line, `${text}: block ${names[atom.b]} already has ${names[onTop[atom.b]!]} on it`);
      }
      onTop[atom.b] = atom.a;
    } else if (atom.pred === ONTABLE) place(atom.a, TABLE, atom.line, text);
    else if (atom.pred === HOLDING) {
      if (held !== NONE && held !== atom.a) fail(atom.line, `${text}: the hand already holds ${names[held]}`);
      held = atom.a;
      place(atom.a, HELD, atom.line, text);
    } else if (atom.pred === CLEAR) clear[atom.a] = 1;
    else handEmpty = 1;
  }
  const line = section.line;
  for (let x = 0; x < n; x++) {
    if (below[x] === -3) fail(line, `:init gives no position for block ${names[x]} (on, ontable or holding)`);
  }
  if (held !== NONE && handEmpty) fail(line, `:init has both (handempty) and (holding ${names[held]})`);
  if (held === NONE && !handEmpty) fail(line, ':init has neither (handempty) nor (holding …)');
  for (let x = 0; x < n; x++) {
    if (onTop[x] !== NONE && below[x] === HELD) fail(line, `:init holds ${names[x]} with ${names[onTop[x]!]} on it`);
    const isClear = onTop[x] === NONE && below[x] !== HELD;
    if (isClear && !clear[x]) fail(line, `:init lacks (clear ${names[x]}) although nothing is on ${names[x]}`);
    if (!isClear && clear[x]) fail(line, `:init says (clear ${names[x]}) but ${below[x] === HELD ? 'it is held' : `${names[onTop[x]!]} is on it`}`);
  }
  for (let x = 0; x < n; x++) {
    let y = x;
    for (let steps = 0; steps <= n && below[y]! >= 0; steps++) {
      y = below[y]!;
      if (y === x) fail(line, `:init stacks block ${names[x]} in a cycle`);
    }
  }
  return below;
}

/** A goal is one atom or a (possibly nested) conjunction of atoms. */
function readGoal(node: Node, index: Map<string, number>, out: Atom[]): void {
  if (node.kind === 'list' && node.items[0]?.kind === 'sym' && node.items[0].text === 'and') {
    for (const item of node.items.slice(1)) readGoal(item, index, out);
    return;
  }
  if (node.kind === 'list' && node.items[0]?.kind === 'sym' && ['or', 'imply', 'exists', 'forall', 'when'].includes(node.items[0].text)) {
    fail(node.line, `unsupported goal formula '${node.items[0].text}' (only atoms and 'and')`);
  }
  const { pred, a, b } = readAtom(node, index, ':goal');
  out.push({ pred, a, b });
}

/** Serialises a task back to a PDDL problem file (round-trips through `parseProblem`). */
export function toPddl(name: string, task: Task): string {
  const { names, below } = task;
  const init: string[] = [];
  let held = NONE;
  const hasTop = new Uint8Array(names.length);
  for (let x = 0; x < names.length; x++) {
    const y = below[x]!;
    if (y === HELD) {
      held = x;
      init.push(`(holding ${names[x]})`);
    } else if (y === TABLE) init.push(`(ontable ${names[x]})`);
    else {
      init.push(`(on ${names[x]} ${names[y]})`);
      hasTop[y] = 1;
    }
  }
  for (let x = 0; x < names.length; x++) if (!hasTop[x] && below[x] !== HELD) init.push(`(clear ${names[x]})`);
  if (held === NONE) init.unshift('(handempty)');
  const goal = task.goal.map((g) => formatAtom(g, names));
  return [
    `(define (problem ${name})`,
    '(:domain blocksworld-4ops)',
    `(:objects ${names.join(' ')})`,
    '(:init',
    ...init,
    ')',
    '(:goal',
    '(and',
    ...goal,
    ')))',
    '',
  ].join('\n');
}
