/** Countdown solver over subsets of the given numbers. A shortest solution never wastes a step,
 * so it is one expression tree over some subset and has (subset size − 1) steps: the shortest is
 * found by trying subsets in order of size. Values reachable from small subsets are tabulated;
 * a larger subset is split in two, the tabulated side enumerated and the other side asked for
 * exactly the value that completes the target, which avoids tabulating the big sets. */
import type { Op } from '../arithmetic/step.js';

export interface SolvedStep {
  a: number;
  op: Op;
  b: number;
  c: number;
}

/** The moves from a pair under Countdown rules (positive integers only, exact division),
 * larger operand first; `*1` and `/1` are left out because they never shorten a solution. */
export function moves(x: number, y: number): SolvedStep[] {
  const a = Math.max(x, y);
  const b = Math.min(x, y);
  const out: SolvedStep[] = [{ a, op: '+', b, c: a + b }];
  if (a > b) out.push({ a, op: '-', b, c: a - b });
  if (b > 1) {
    out.push({ a, op: '*', b, c: a * b });
    if (a % b === 0) out.push({ a, op: '/', b, c: a / b });
  }
  return out;
}

/** How a tabulated value was made: from `a` (over `aMask`) and `b` (over `bMask`); null = given. */
type Origin = { a: number; aMask: number; op: Op; b: number; bMask: number } | null;

const popcount = (x: number): number => {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
};

/** The splits of `mask` into two non-empty halves, each unordered pair once. */
function splits(mask: number): Array<[number, number]> {
  const low = mask & -mask;
  const out: Array<[number, number]> = [];
  for (let a = (mask - 1) & mask; a > 0; a = (a - 1) & mask) if ((a & low) !== 0) out.push([a, mask ^ a]);
  return out;
}

/** Values `o` with `s op o = v` under the rules of `moves`, with the operation. */
function partners(s: number, v: number): Array<[number, Op]> {
  const out: Array<[number, Op]> = [];
  if (v - s >= 1) out.push([v - s, '+']);
  if (s - v >= 1) out.push([s - v, '-']);
  out.push([s + v, '-']);
  if (s > 1 && v % s === 0 && v / s > 1) out.push([v / s, '*']);
  if (v > 0 && s % v === 0 && s / v > 1) out.push([s / v, '/']);
  if (s > 1) out.push([s * v, '/']);
  return out;
}

export interface Solver {
  /** A shortest solution for `target` (`[]` when it is a given number), or null. */
  shortest(target: number): SolvedStep[] | null;
}

/** Tabulates every subset of up to `max(1, n − 2)` numbers: enough that every split of any subset
 * has a tabulated side. Meant for the handful of numbers of a Countdown instance. */
export function createSolver(numbers: readonly number[]): Solver {
  const n = numbers.length;
  if (n > 12) throw new RangeError('countdown solver: at most 12 numbers');
  const limit = Math.max(1, n - 2);
  const table: Array<Map<number, Origin> | undefined> = new Array(1 << n);
  const byCount: number[][] = Array.from({ length: n + 1 }, () => []);
  for (let mask = 1; mask < 1 << n; mask++) byCount[popcount(mask)]!.push(mask);
  numbers.forEach((x, i) => (table[1 << i] = new Map([[x, null]])));
  for (let k = 2; k <= limit; k++) {
    for (const mask of byCount[k]!) {
      const made = new Map<number, Origin>();
      for (const [p, q] of splits(mask)) {
        for (const x of table[p]!.keys()) {
          for (const y of table[q]!.keys()) {
            const [aMask, bMask] = x >= y ? [p, q] : [q, p];
            for (const m of moves(x, y)) if (!made.has(m.c)) made.set(m.c, { a: m.a, aMask, op: m.op, b: m.b, bMask });
          }
        }
      }
      table[mask] = made;
    }
  }

  const expand = (mask: number, v: number, out: SolvedStep[]): SolvedStep[] => {
    const origin = table[mask]!.get(v);
    if (origin) {
      expand(origin.aMask, origin.a, out);
      expand(origin.bMask, origin.b, out);
      out.push({ a: origin.a, op: origin.op, b: origin.b, c: v });
    }
    return out;
  };

  /** Steps making `v` from exactly the numbers of `mask`, or null. */
  const derive = (mask: number, v: number): SolvedStep[] | null => {
    const known = table[mask];
    if (known !== undefined) return known.has(v) ? expand(mask, v, []) : null;
    for (const [p, q] of splits(mask)) {
      const sides: Array<[number, number]> = [];
      if (table[p] !== undefined) sides.push([p, q]);
      if (table[q] !== undefined) sides.push([q, p]);
      // Enumerating one tabulated side is enough when both are.
      const [s, o] = sides.length === 2 && table[q]!.size < table[p]!.size ? sides[1]! : sides[0]!;
      for (const x of table[s]!.keys()) {
        for (const [y, op] of partners(x, v)) {
          const rest = derive(o, y);
          if (rest !== null) {
            const [a, b] = x >= y ? [x, y] : [y, x];
            return [...expand(s, x, []), ...rest, { a, op, b, c: v }];
          }
        }
      }
    }
    return null;
  };

  return {
    shortest(target) {
      for (let k = 1; k <= n; k++) {
        for (const mask of byCount[k]!) {
          const steps = derive(mask, target);
          if (steps !== null) return steps;
        }
      }
      return null;
    },
  };
}

/** A shortest solution of one instance (see `createSolver`). */
export function solve(numbers: readonly number[], target: number): SolvedStep[] | null {
  return createSolver(numbers).shortest(target);
}
