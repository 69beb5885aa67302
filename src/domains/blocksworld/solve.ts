/** Optimal (shortest) plans by A* with an admissible heuristic.
 *
 * Heuristic: every action moves exactly one block (its first argument), so a plan needs at least
 * the sum over blocks of the actions each block needs. A block not in the hand that must move
 * needs two (lift, then place) — except possibly the one block the plan may end holding, which
 * needs one; the block in the hand needs at least one. A block must move when the goal puts it
 * elsewhere, when the block under it must move, or when it sits on a block that the goal wants
 * clear, held, or topped by another block. Reopening nodes keeps plans optimal even where the
 * heuristic is not consistent.
 *
 * Cost: a few hundred expansions for typical 6–8 block problems; full random goals over 10+
 * blocks can need hundreds of thousands, hence the expansion budget (`null` when exceeded). */
import {
  CLEAR, HANDEMPTY, HELD, HOLDING, NONE, ON, ONTABLE, PICK_UP, PUT_DOWN, STACK, TABLE, UNSTACK,
  fillAbove, heldBlock, type Action, type Task,
} from './state.js';

export const DEFAULT_MAX_EXPANSIONS = 400_000;

const UNSPEC = -3;

/** The goal by block: `below` UNSPEC where the goal does not place a block, `above` NONE where
 * it puts nothing on it, `holding` NONE without a holding atom. */
export interface GoalIndex {
  below: Int16Array;
  above: Int16Array;
  clear: Uint8Array;
  holding: number;
  handEmpty: boolean;
  canEndHeld: Uint8Array;
}

export function indexGoal(task: Task): GoalIndex {
  const n = task.names.length;
  const g: GoalIndex = {
    below: new Int16Array(n).fill(UNSPEC),
    above: new Int16Array(n).fill(NONE),
    clear: new Uint8Array(n),
    holding: NONE,
    handEmpty: false,
    canEndHeld: new Uint8Array(n),
  };
  for (const atom of task.goal) {
    if (atom.pred === ON) {
      g.below[atom.a] = atom.b;
      g.above[atom.b] = atom.a;
    } else if (atom.pred === ONTABLE) g.below[atom.a] = TABLE;
    else if (atom.pred === CLEAR) g.clear[atom.a] = 1;
    else if (atom.pred === HANDEMPTY) g.handEmpty = true;
    else if (atom.pred === HOLDING) g.holding = atom.a;
  }
  for (let x = 0; x < n; x++) {
    g.canEndHeld[x] = !g.handEmpty && g.below[x] === UNSPEC && !g.clear[x] && (g.holding === NONE || g.holding === x) ? 1 : 0;
  }
  return g;
}

function heuristic(g: GoalIndex, below: Int16Array, above: Int16Array, held: number, tower: Int16Array): number {
  const n = below.length;
  let moves = 0;
  let slack = held !== NONE && g.canEndHeld[held] ? 1 : 0;
  tower.fill(NONE);
  for (let base = 0; base < n; base++) {
    if (below[base] !== TABLE) continue;
    let underMoves = false;
    let y = TABLE;
    for (let z = base; z !== NONE; z = above[z]!) {
      tower[z] = base;
      const must: boolean =
        underMoves ||
        (g.below[z] !== UNSPEC && g.below[z] !== y) ||
        g.holding === z ||
        (y >= 0 && ((g.above[y] !== NONE && g.above[y] !== z) || g.clear[y] === 1 || g.holding === y));
      if (must) {
        moves++;
        if (g.canEndHeld[z]) slack = 1;
        // Its goal support is under it in this tower: it must leave before that support is
        // ready, so it is put somewhere else first and moved twice.
        const dest = g.below[z]!;
        if (dest >= 0 && tower[dest] === base) moves++;
      }
      underMoves = must;
      y = z;
    }
  }
  const h = 2 * moves + (held !== NONE ? 1 : 0) - slack;
  return h > 0 ? h : 0;
}

function goalHolds(task: Task, below: Int16Array, above: Int16Array, held: number): boolean {
  for (const atom of task.goal) {
    const a = atom.a;
    switch (atom.pred) {
      case ON: if (below[a] !== atom.b) return false; break;
      case ONTABLE: if (below[a] !== TABLE) return false; break;
      case CLEAR: if (above[a] !== NONE || below[a] === HELD) return false; break;
      case HANDEMPTY: if (held !== NONE) return false; break;
      default: if (held !== a) return false;
    }
  }
  return true;
}

/** State keys: a number while (n+2)^n stays exact in a double (n ≤ 13), else a string. */
function keyFunction(n: number): (below: Int16Array) => number | string {
  if (n <= 13) {
    const base = n + 2;
    return (below) => {
      let k = 0;
      for (let i = n - 1; i >= 0; i--) k = k * base + (below[i]! + 2);
      return k;
    };
  }
  return (below) => String.fromCharCode(...Array.from(below, (v) => v + 2));
}

/** Min-heap on (f, −g): among equal f, deeper nodes first, which reaches goals sooner. */
class Heap {
  node: number[] = [];
  f: number[] = [];
  g: number[] = [];
  get size(): number {
    return this.node.length;
  }
  private less(i: number, j: number): boolean {
    return this.f[i]! < this.f[j]! || (this.f[i] === this.f[j] && this.g[i]! > this.g[j]!);
  }
  private swap(i: number, j: number): void {
    [this.node[i], this.node[j]] = [this.node[j]!, this.node[i]!];
    [this.f[i], this.f[j]] = [this.f[j]!, this.f[i]!];
    [this.g[i], this.g[j]] = [this.g[j]!, this.g[i]!];
  }
  push(node: number, f: number, g: number): void {
    let i = this.node.length;
    this.node.push(node);
    this.f.push(f);
    this.g.push(g);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Removes the top; its node and g are left in `topNode` / `topG`. */
  topNode = 0;
  topG = 0;
  pop(): void {
    this.topNode = this.node[0]!;
    this.topG = this.g[0]!;
    const last = this.node.length - 1;
    this.swap(0, last);
    this.node.pop();
    this.f.pop();
    this.g.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

/** A shortest plan, or null when none is found within `maxExpansions` expanded states (the goal
 * is unsatisfiable, or the problem is too large for optimal search). */
export function solveOptimal(task: Task, maxExpansions = DEFAULT_MAX_EXPANSIONS): Action[] | null {
  const n = task.names.length;
  const goal = indexGoal(task);
  const keyOf = keyFunction(n);
  const below = Int16Array.from(task.below);
  const above = new Int16Array(n);
  const tower = new Int16Array(n);

  let states = new Int16Array(Math.max(1, n) * 1024);
  let gOf: number[] = [];
  const parent: number[] = [];
  const move: number[] = []; // op | x << 2 | (y + 1) << 12
  const seen = new Map<number | string, number>();
  const heap = new Heap();

  const addNode = (g: number, from: number, code: number): number => {
    const id = gOf.length;
    if ((id + 1) * n > states.length) {
      const bigger = new Int16Array(states.length * 2);
      bigger.set(states);
      states = bigger;
    }
    states.set(below, id * n);
    gOf.push(g);
    parent.push(from);
    move.push(code);
    return id;
  };

  fillAbove(below, above);
  const root = addNode(0, -1, 0);
  seen.set(keyOf(below), root);
  heap.push(root, heuristic(goal, below, above, heldBlock(below), tower), 0);

  // Tries the successor now in `below`/`above` (reached from `from` by `code`).
  const consider = (from: number, g: number, code: number, held: number): void => {
    const key = keyOf(below);
    const known = seen.get(key);
    if (known !== undefined) {
      if (gOf[known]! <= g) return;
      gOf[known] = g;
      parent[known] = from;
      move[known] = code;
      heap.push(known, g + heuristic(goal, below, above, held, tower), g);
      return;
    }
    const id = addNode(g, from, code);
    seen.set(key, id);
    heap.push(id, g + heuristic(goal, below, above, held, tower), g);
  };

  let expansions = 0;
  while (heap.size > 0) {
    heap.pop();
    const id = heap.topNode;
    const g = heap.topG;
    if (g !== gOf[id]) continue; // stale entry: a shorter path was found later
    below.set(states.subarray(id * n, id * n + n));
    fillAbove(below, above);
    const held = heldBlock(below);
    if (goalHolds(task, below, above, held)) return planTo(id, parent, move);
    if (++expansions > maxExpansions) return null;
    const g1 = g + 1;
    if (held === NONE) {
      for (let x = 0; x < n; x++) {
        if (above[x] !== NONE) continue;
        const y = below[x]!;
        below[x] = HELD;
        if (y === TABLE) consider(id, g1, PICK_UP | (x << 2), x);
        else {
          above[y] = NONE;
          consider(id, g1, UNSTACK | (x << 2) | ((y + 1) << 12), x);
          above[y] = x;
        }
        below[x] = y;
      }
    } else {
      below[held] = TABLE;
      consider(id, g1, PUT_DOWN | (held << 2), NONE);
      for (let y = 0; y < n; y++) {
        if (y === held || above[y] !== NONE) continue;
        below[held] = y;
        above[y] = held;
        consider(id, g1, STACK | (held << 2) | ((y + 1) << 12), NONE);
        above[y] = NONE;
      }
      below[held] = HELD;
    }
  }
  return null;
}

function planTo(id: number, parent: number[], move: number[]): Action[] {
  const plan: Action[] = [];
  for (let k = id; parent[k]! >= 0; k = parent[k]!) {
    const code = move[k]!;
    plan.push({ op: code & 3, x: (code >> 2) & 1023, y: (code >> 12) - 1 });
  }
  return plan.reverse();
}
