/** Auto-CEI reward of one response (DESIGN.md §1). */
import type { Verdict } from '../domains/types.js';

/** R_idk(depth) = 2 / (1 + exp(−c2·(depth − c1))) − 1, in (−1, 1): refusing early is punished,
 * refusing after reasoning past c1 steps is nearly rewarded. */
export function idkReward(depth: number, c1: number, c2: number): number {
  return 2 / (1 + Math.exp(-c2 * (depth - c1))) - 1;
}

/** How a method treats a refusal: Auto-CEI's curriculum reward, or (plain EI) as a wrong answer. */
export type IdkShaping = { kind: 'curriculum'; c1: number; c2: number } | { kind: 'wrong' };

export function reward(verdict: Verdict, shaping: IdkShaping): number {
  switch (verdict.verdict) {
    case 'correct':
      return 1;
    case 'wrong':
      return -1;
    case 'idk':
      return shaping.kind === 'wrong' ? -1 : idkReward(verdict.depth, shaping.c1, shaping.c2);
  }
}
