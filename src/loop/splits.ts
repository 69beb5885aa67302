/** Train / validation / held-out test problems, drawn by seed and kept disjoint by prompt so that
 * no held-out problem is ever trained on. */
import type { Domain, Problem } from '../domains/types.js';
import { problemSeed } from '../domains/index.js';

export interface Splits {
  train: Problem[];
  val: Problem[];
  test: Problem[];
}

const SPLITS = ['test', 'val', 'train'] as const;
type SplitName = (typeof SPLITS)[number];

/** After this many draws in a row that repeat a prompt, a grade counts as exhausted. */
const EXHAUSTED_STREAK = 500;

/** FNV-1a of the prompt mixed with the seed, as a fraction in [0, 1). */
function unitHash(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

/** One seeded stream of problems, difficulties in turn. A distinct prompt's split is decided by a
 * hash of it, in proportion to the requested sizes, so every grade gives each split its share of
 * the grade's problems: a grade with few distinct problems (3-block Blocksworld has 132) still has
 * some in training instead of all of them held out. Within a split the grades are equally
 * represented (at most size/grades each); a split stays short when a grade runs out. */
export function makeSplits(domain: Domain, seed: number, difficulties: readonly number[], sizes: { train: number; val: number; test: number }): Splits {
  const total = sizes.train + sizes.val + sizes.test;
  const out: Splits = { train: [], val: [], test: [] };
  if (total === 0 || difficulties.length === 0) return out;
  const G = difficulties.length;
  const quota = (s: SplitName) => Math.ceil(sizes[s] / G);
  const taken = Object.fromEntries(SPLITS.map((s) => [s, new Array<number>(G).fill(0)])) as Record<SplitName, number[]>;
  const streak = new Array<number>(G).fill(0);
  const gradeDone = (g: number) => streak[g]! >= EXHAUSTED_STREAK || SPLITS.every((s) => taken[s][g]! >= quota(s) || out[s].length >= sizes[s]);
  const seen = new Set<string>();
  const splitOf = (prompt: string): SplitName => {
    const u = unitHash(seed, prompt) * total;
    return u < sizes.test ? 'test' : u < sizes.test + sizes.val ? 'val' : 'train';
  };
  for (let i = 0; i < total * 50; i++) {
    const g = i % G;
    if (gradeDone(g)) {
      if (difficulties.every((_, k) => gradeDone(k))) break;
      continue;
    }
    const p = domain.generate(problemSeed(seed, i), difficulties[g]!);
    if (seen.has(p.prompt) || seen.has(`id:${p.id}`)) {
      streak[g]!++;
      continue;
    }
    streak[g] = 0;
    seen.add(p.prompt).add(`id:${p.id}`);
    const s = splitOf(p.prompt);
    if (out[s].length >= sizes[s] || taken[s][g]! >= quota(s)) continue;
    taken[s][g]!++;
    out[s].push(p);
  }
  return out;
}
