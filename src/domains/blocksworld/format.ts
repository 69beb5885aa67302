/** The problem data stored in `Problem.data` and the prompt shown to the model.
 *
 * Prompt (compact for a character-level model with a short context; derivable from any PDDL
 * problem, since the initial state is complete and the goal is a list of atoms):
 *
 *   init: a b | c d
 *   goal: (on b d) (on d c)
 *   plan:
 *
 * `init` lists the towers, each bottom to top, separated by ` | `, in the order of their bottom
 * block in the object list: above, b is on a (on the table), d on c. A held block adds a line
 * `hand: x` after `init`; without it the hand is empty. `goal` lists the goal atoms in PDDL form
 * as the problem states them. The completion follows on the next line: one action per line, each
 * put-down and stack followed by a comment with the towers it leaves (`(put-down c) ; a b | c`). */
import { HELD, NONE, PREDICATE_ARITY, PREDICATES, TABLE, formatAtom, heldBlock, towersOf, type Atom, type Task } from './state.js';

/** JSON form of a task, as kept in `Problem.data`. */
export interface BlocksworldData {
  /** Object names, in declaration order. */
  blocks: string[];
  /** Initial towers, each bottom to top. */
  towers: string[][];
  /** The block in the hand initially, or null (hand empty). */
  holding: string | null;
  /** Goal atoms in PDDL form, e.g. "(on b d)". */
  goal: string[];
}

export function dataFromTask(task: Task): BlocksworldData {
  const held = heldBlock(task.below);
  return {
    blocks: [...task.names],
    towers: towersOf(task.below).map((t) => t.map((k) => task.names[k]!)),
    holding: held === NONE ? null : task.names[held]!,
    goal: task.goal.map((g) => formatAtom(g, task.names)),
  };
}

/** Inverse of `dataFromTask`; throws on data that does not describe a consistent state. */
export function taskFromData(data: BlocksworldData): Task {
  const names = data.blocks;
  const index = new Map(names.map((nm, i) => [nm, i]));
  const lookup = (nm: string): number => {
    const k = index.get(nm);
    if (k === undefined) throw new Error(`unknown block '${nm}' in problem data`);
    return k;
  };
  const below = new Int16Array(names.length).fill(-3);
  for (const tower of data.towers) {
    let under = TABLE;
    for (const nm of tower) {
      const x = lookup(nm);
      if (below[x] !== -3) throw new Error(`block '${nm}' placed twice in problem data`);
      below[x] = under;
      under = x;
    }
  }
  if (data.holding !== null) {
    const x = lookup(data.holding);
    if (below[x] !== -3) throw new Error(`block '${data.holding}' placed twice in problem data`);
    below[x] = HELD;
  }
  if (below.includes(-3)) throw new Error('a block has no position in problem data');
  const goal: Atom[] = data.goal.map((text) => {
    const parts = text.replace(/^\(|\)$/g, '').split(' ');
    const pred = (PREDICATES as readonly string[]).indexOf(parts[0]!);
    if (pred < 0 || parts.length - 1 !== PREDICATE_ARITY[pred]) throw new Error(`bad goal atom '${text}' in problem data`);
    return { pred, a: parts[1] ? lookup(parts[1]) : NONE, b: parts[2] ? lookup(parts[2]) : NONE };
  });
  return { names: [...names], below, goal };
}

/** Towers in the prompt's notation: blocks bottom to top, towers separated by ` | `. */
export function formatTowers(towers: readonly (readonly number[])[], names: readonly string[]): string {
  return towers.map((t) => t.map((k) => names[k]).join(' ')).join(' | ');
}

export function formatPrompt(data: BlocksworldData): string {
  const lines = [`init: ${data.towers.map((t) => t.join(' ')).join(' | ')}`];
  if (data.holding !== null) lines.push(`hand: ${data.holding}`);
  lines.push(`goal: ${data.goal.join(' ')}`, 'plan:', '');
  return lines.join('\n');
}
