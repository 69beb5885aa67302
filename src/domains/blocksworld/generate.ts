/** Random tasks. Blocks are named a, b, c, …; the hand starts empty; the initial towers are
 * random; the goal is PlanBench-like: every `on` atom of a second random configuration (the
 * `ontable` and `clear` atoms are left out, so the goal is partial), listed by first block,
 * resampled until it is non-empty and not already true initially. */
import type { Rng } from '../../util/random.js';
import { ON, TABLE, type Atom, type Task } from './state.js';

export const MAX_GENERATED_BLOCKS = 26;

/** Random towers: blocks in random order, each starting a new tower or going on top of a random
 * existing one, with equal chance among those options. */
function randomTowers(rng: Rng, n: number): Int16Array {
  const below = new Int16Array(n);
  const tops: number[] = [];
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  for (const x of order) {
    const k = rng.int(0, tops.length);
    if (k === tops.length) {
      below[x] = TABLE;
      tops.push(x);
    } else {
      below[x] = tops[k]!;
      tops[k] = x;
    }
  }
  return below;
}

export function randomTask(rng: Rng, n: number): Task {
  if (!Number.isInteger(n) || n < 2 || n > MAX_GENERATED_BLOCKS) {
    throw new Error(`blocksworld: number of blocks must be an integer in 2..${MAX_GENERATED_BLOCKS}, got ${n}`);
  }
  const names = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));
  const below = randomTowers(rng, n);
  for (;;) {
    const target = randomTowers(rng, n);
    const goal: Atom[] = [];
    let alreadyTrue = true;
    for (let x = 0; x < n; x++) {
      if (target[x]! < 0) continue;
      goal.push({ pred: ON, a: x, b: target[x]! });
      if (below[x] !== target[x]) alreadyTrue = false;
    }
    if (goal.length > 0 && !alreadyTrue) return { names, below, goal };
  }
}
