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

/** When routing a prompt, training counts as at most this many times val + test: however large the
 * training set, a grade with few distinct problems lends about a tenth of them to val and test. */
const MAX_TRAIN_WEIGHT = 9;

/** One seeded stream of problems, difficulties in turn. A distinct prompt's split is decided by a
 * hash of it, so every grade gives each split its share of the grade's problems: a grade with few
 * distinct problems (3-block Blocksworld has 132) still has some in training instead of all of
 * them held out. Within a split the grades are equally represented (at most size/grades each); a
 * prompt routed to a val or test share that is already full goes to training instead. When a grade
 * runs out, its unfilled training share goes to the grades that have not, so training gets the
 * problems asked for; val and test stay short instead, to stay balanced across grades. */
export function makeSplits(domain: Domain, seed: number, difficulties: readonly number[], sizes: { train: number; val: number; test: number }): Splits {
  const total = sizes.train + sizes.val + sizes.test;
  const out: Splits = { train: [], val: [], test: [] };
  if (total === 0 || difficulties.length === 0) return out;
  const G = difficulties.length;
  const taken = Object.fromEntries(SPLITS.map((s) => [s, new Array<number>(G).fill(0)])) as Record<SplitName, number[]>;
  const streak = new Array<number>(G).fill(0);
  const exhausted = (g: number) => streak[g]! >= EXHAUSTED_STREAK;
  const quota = (s: SplitName): number => {
    if (s !== 'train') return Math.ceil(sizes[s] / G);
    const open = difficulties.filter((_, g) => !exhausted(g)).length;
    const closed = taken.train.reduce((sum, t, g) => sum + (exhausted(g) ? t : 0), 0);
    return open === 0 ? 0 : Math.ceil((sizes.train - closed) / open);
  };
  const full = (s: SplitName, g: number) => out[s].length >= sizes[s] || taken[s][g]! >= quota(s);
  const gradeDone = (g: number) => exhausted(g) || SPLITS.every((s) => full(s, g));
  const held = sizes.val + sizes.test;
  const weight = held + Math.min(sizes.train, held === 0 ? sizes.train : MAX_TRAIN_WEIGHT * held);
  const splitOf = (prompt: string): SplitName => {
    const u = unitHash(seed, prompt) * weight;
    return u < sizes.test ? 'test' : u < held ? 'val' : 'train';
  };
  const seen = new Set<string>();
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
    let s = splitOf(p.prompt);
    if (s !== 'train' && full(s, g)) s = 'train';
    if (full(s, g)) continue;
    taken[s][g]!++;
    out[s].push(p);
  }
  return out;
}
