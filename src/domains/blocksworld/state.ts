/** Blocksworld states, atoms and actions (the 4-operator PlanBench domain). A state is the array
 * `below`: for each block the index of the block it sits on, TABLE or HELD. Everything else
 * (clear, handempty, the block on top of another) is derived, so a state can never be
 * inconsistent and its array doubles as a hash key. */

export const TABLE = -1;
export const HELD = -2;
export const NONE = -1;

/** Predicates of the domain. */
export const ON = 0;
export const ONTABLE = 1;
export const CLEAR = 2;
export const HANDEMPTY = 3;
export const HOLDING = 4;
export const PREDICATES = ['on', 'ontable', 'clear', 'handempty', 'holding'] as const;
export const PREDICATE_ARITY = [2, 1, 1, 0, 1] as const;

/** Operators of the domain, in PlanBench's order. */
export const PICK_UP = 0;
export const PUT_DOWN = 1;
export const STACK = 2;
export const UNSTACK = 3;
export const OPERATORS = ['pick-up', 'put-down', 'stack', 'unstack'] as const;
export const OPERATOR_ARITY = [1, 1, 2, 2] as const;

/** A ground atom; `b` is unused (NONE) for unary predicates, `a` and `b` for handempty. */
export interface Atom {
  pred: number;
  a: number;
  b: number;
}

export interface Action {
  op: number;
  x: number;
  y: number;
}

/** A planning task: block names, the initial state and a conjunctive goal. */
export interface Task {
  names: string[];
  below: Int16Array;
  goal: Atom[];
}

export function heldBlock(below: ArrayLike<number>): number {
  for (let i = 0; i < below.length; i++) if (below[i] === HELD) return i;
  return NONE;
}

/** Fills `above` (block on top of each block, or NONE) from `below`. */
export function fillAbove(below: ArrayLike<number>, above: Int16Array): void {
  above.fill(NONE);
  for (let i = 0; i < below.length; i++) {
    const y = below[i]!;
    if (y >= 0) above[y] = i;
  }
}

export function atomHolds(atom: Atom, below: ArrayLike<number>, above: ArrayLike<number>, held: number): boolean {
  switch (atom.pred) {
    case ON: return below[atom.a] === atom.b;
    case ONTABLE: return below[atom.a] === TABLE;
    case CLEAR: return above[atom.a] === NONE && below[atom.a] !== HELD;
    case HANDEMPTY: return held === NONE;
    default: return held === atom.a;
  }
}

export function formatAtom(atom: Atom, names: readonly string[]): string {
  const p = PREDICATES[atom.pred]!;
  const arity = PREDICATE_ARITY[atom.pred]!;
  if (arity === 0) return `(${p})`;
  if (arity === 1) return `(${p} ${names[atom.a]})`;
  return `(${p} ${names[atom.a]} ${names[atom.b]})`;
}

export function formatAction(action: Action, names: readonly string[]): string {
  const op = OPERATORS[action.op]!;
  return OPERATOR_ARITY[action.op] === 1 ? `(${op} ${names[action.x]})` : `(${op} ${names[action.x]} ${names[action.y]})`;
}

/** Where an action leaves its block (the new `below` of `action.x`): in the hand after a lift,
 * on the table after a put-down, on `y` after a stack. Preconditions are not checked. */
export function positionAfter(action: Action): number {
  return action.op === PICK_UP || action.op === UNSTACK ? HELD : action.op === PUT_DOWN ? TABLE : action.y;
}

/** Towers bottom to top, ordered by the index of their bottom block. */
export function towersOf(below: ArrayLike<number>): number[][] {
  const n = below.length;
  const above = new Int16Array(n);
  fillAbove(below, above);
  const towers: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (below[i] !== TABLE) continue;
    const tower = [i];
    for (let x = above[i]!; x !== NONE; x = above[x]!) tower.push(x);
    towers.push(tower);
  }
  return towers;
}

/** Why a set of goal atoms can never hold together, or null when some state satisfies it (in this
 * domain every consistent state is reachable from every other, so that means solvable). */
export function goalConflict(n: number, goal: readonly Atom[], names: readonly string[]): string | null {
  const below = new Int32Array(n).fill(-3); // -3: unconstrained
  const above = new Int32Array(n).fill(NONE);
  const clear = new Uint8Array(n);
  let holding = NONE;
  let handEmpty = false;
  const place = (x: number, where: number): string | null => {
    if (below[x] !== -3 && below[x] !== where) return `block ${names[x]} cannot be in two places`;
    below[x] = where;
    return null;
  };
  for (const g of goal) {
    let err: string | null = null;
    if (g.pred === ON) {
      if (g.a === g.b) return `block ${names[g.a]} cannot be on itself`;
      err = place(g.a, g.b);
      if (!err && above[g.b] !== NONE && above[g.b] !== g.a) err = `two blocks cannot be on ${names[g.b]}`;
      above[g.b] = g.a;
    } else if (g.pred === ONTABLE) err = place(g.a, TABLE);
    else if (g.pred === CLEAR) clear[g.a] = 1;
    else if (g.pred === HANDEMPTY) handEmpty = true;
    else {
      if (holding !== NONE && holding !== g.a) return 'the hand cannot hold two blocks';
      holding = g.a;
      err = place(g.a, HELD);
    }
    if (err) return err;
  }
  if (holding !== NONE && handEmpty) return 'the hand cannot be both empty and holding a block';
  for (let x = 0; x < n; x++) {
    if (clear[x] && (above[x] !== NONE || below[x] === HELD)) return `block ${names[x]} cannot be clear`;
    if (above[x] !== NONE && below[x] === HELD) return `block ${names[x]} is held with a block on it`;
  }
  // on-chains must not loop
  for (let x = 0; x < n; x++) {
    let y = x;
    for (let steps = 0; steps <= n && below[y]! >= 0; steps++) {
      y = below[y]!;
      if (y === x) return `the goal stacks ${names[x]} in a cycle`;
    }
  }
  return null;
}
