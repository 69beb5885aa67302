/** Generated Countdown instances: `difficulty` numbers (mostly 1–10, some 25/50/75/100 from four
 * numbers on) and a target (at most 999) built from a random solution that uses them all, so
 * every instance is solvable. Only targets that no smaller subset of the numbers reaches are kept:
 * a shortest solution then has exactly `difficulty − 1` steps. The gold solution is the solver's. */
import { createRng, type Rng } from '../../util/random.js';
import type { Problem } from '../types.js';
import { formatStep } from '../arithmetic/step.js';
import { createSolver, moves } from './solve.js';

export const MIN_NUMBERS = 2;
export const MAX_NUMBERS = 6;
const MAX_TARGET = 999;
const LARGE = [25, 50, 75, 100] as const;

export interface CountdownData {
  numbers: number[];
  target: number;
}

function drawNumbers(rng: Rng, count: number): number[] {
  return Array.from({ length: count }, () => (count >= 4 && rng.next() < 0.2 ? rng.pick(LARGE) : rng.int(1, 10)));
}

/** Combine random pairs until one number is left; null when a pair has no allowed move. */
function randomTarget(rng: Rng, numbers: readonly number[]): number | null {
  const pool = [...numbers];
  while (pool.length > 1) {
    const i = rng.int(0, pool.length - 1);
    let j = rng.int(0, pool.length - 2);
    if (j >= i) j++;
    const options = moves(pool[i]!, pool[j]!).filter((m) => m.c <= MAX_TARGET);
    if (options.length === 0) return null;
    const move = rng.pick(options);
    pool.splice(Math.max(i, j), 1);
    pool.splice(Math.min(i, j), 1, move.c);
  }
  return pool[0]!;
}

export function generateCountdown(seed: number, difficulty: number): Problem<CountdownData> {
  if (!Number.isInteger(difficulty) || difficulty < MIN_NUMBERS || difficulty > MAX_NUMBERS) {
    throw new RangeError(`countdown difficulty must be an integer from ${MIN_NUMBERS} to ${MAX_NUMBERS}, got ${difficulty}`);
  }
  const rng = createRng(seed);
  for (;;) {
    const numbers = drawNumbers(rng, difficulty);
    const solver = createSolver(numbers);
    for (let attempt = 0; attempt < 20; attempt++) {
      const target = randomTarget(rng, numbers);
      if (target === null) continue;
      // Keep targets that need every number, so the difficulty is exactly the solution's depth.
      const solution = solver.shortest(target);
      if (solution === null || solution.length !== difficulty - 1) continue;
      return {
        id: `countdown-${difficulty}-${seed >>> 0}`,
        domain: 'countdown',
        difficulty,
        prompt: `Use ${numbers.join(' ')} to make ${target}\n`,
        goldSteps: solution.map((s) => formatStep(s.a, s.op, s.b, s.c)),
        goldAnswer: `${target}`,
        data: { numbers, target },
      };
    }
  }
}
