/** Expert-iteration resampling (DESIGN.md §1): per problem, draw n indices with replacement with
 * probability ∝ exp(reward / T), add one copy of every sample, and drop wrong answers (reward ≤ −1). */
import type { Rng } from '../util/random.js';

/** Returns the indices (with repeats) of the samples to train on, for one problem's samples. */
export function resampleIndices(rewards: readonly number[], n: number, T: number, rng: Rng): number[] {
  if (!(T > 0)) throw new RangeError(`resampling temperature T must be > 0, got ${T}`);
  const maxR = Math.max(...rewards);
  // Subtract the max before exponentiating: same distribution, no overflow at small T.
  const weights = rewards.map((r) => Math.exp((r - maxR) / T));
  const total = weights.reduce((a, b) => a + b, 0);
  const picked: number[] = rewards.map((_, i) => i);
  for (let draw = 0; draw < n; draw++) {
    let u = rng.next() * total;
    let i = 0;
    while (i < weights.length - 1 && u >= weights[i]!) u -= weights[i++]!;
    picked.push(i);
  }
  return picked.filter((i) => rewards[i]! > -1);
}
