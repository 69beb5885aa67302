/** Train / validation / held-out test problems, drawn by seed and kept disjoint by prompt so that
 * no held-out problem is ever trained on. */
import type { Domain, Problem } from '../domains/types.js';
import { problemSeed } from '../domains/index.js';

export interface Splits {
  train: Problem[];
  val: Problem[];
  test: Problem[];
}

/** Difficulties cycle within each split, so every grade is equally represented. Each split has its
 * own seed stream; a prompt already drawn (in any split) is skipped. Small grades can run out of
 * distinct problems: after 50 draws per wanted problem the split stays short. */
export function makeSplits(domain: Domain, seed: number, difficulties: readonly number[], sizes: { train: number; val: number; test: number }): Splits {
  const seen = new Set<string>();
  const draw = (salt: number, count: number): Problem[] => {
    const out: Problem[] = [];
    const perGrade = difficulties.map(() => 0);
    let attempt = 0;
    for (let i = 0; out.length < count && attempt < count * 50; i++, attempt++) {
      const g = i % difficulties.length;
      if (perGrade[g]! >= Math.ceil(count / difficulties.length)) continue;
      const p = domain.generate(problemSeed(seed ^ salt, i), difficulties[g]!);
      if (seen.has(p.prompt) || seen.has(`id:${p.id}`)) continue;
      seen.add(p.prompt).add(`id:${p.id}`);
      perGrade[g]!++;
      out.push(p);
    }
    return out;
  };
  // Test first: it is the set that must stay the same size and untouched.
  const test = draw(0x7e57, sizes.test);
  const val = draw(0x5a1, sizes.val);
  const train = draw(0x7a1, sizes.train);
  return { train, val, test };
}
