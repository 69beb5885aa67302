/** Validation metrics and the curriculum objective f (DESIGN.md §1). */
import type { VerdictKind } from '../domains/types.js';
import { createRng } from '../util/random.js';

export interface Metrics {
  total: number;
  correct: number;
  wrong: number;
  idk: number;
  /** correct / total */
  accuracy: number;
  /** correct / (total − idk); 0 when every response is a refusal. */
  precision: number;
  /** idk / total */
  idkRate: number;
  /** (1 − λ)·precision + λ·(1 − idkRate) */
  f: number;
}

export const DEFAULT_LAMBDA = 0.2;

/** Standard error of f when the `total` problems are a random draw (the delta method on the
 * shares of correct, wrong and idk answers); NaN when nothing was answered. Two fs closer than
 * about twice this are not told apart by these problems. */
export function fStandardError(m: Pick<Metrics, 'total' | 'correct' | 'wrong'>, lambda = DEFAULT_LAMBDA): number {
  const answered = m.correct + m.wrong;
  if (answered === 0) return NaN;
  const pc = m.correct / m.total;
  const pw = m.wrong / m.total;
  const a = answered / m.total;
  // ∂f/∂pc and ∂f/∂pw of f = (1 − λ)·pc/(pc + pw) + λ·(pc + pw); ∂f/∂pIdk = 0.
  const gc = ((1 - lambda) * pw) / a ** 2 + lambda;
  const gw = (-(1 - lambda) * pc) / a ** 2 + lambda;
  const mean = pc * gc + pw * gw;
  return Math.sqrt(Math.max(0, pc * gc ** 2 + pw * gw ** 2 - mean ** 2) / m.total);
}

/** Half-width of the 95% interval of f (normal approximation); NaN when nothing was answered. */
export const fHalfWidth95 = (m: Pick<Metrics, 'total' | 'correct' | 'wrong'>, lambda = DEFAULT_LAMBDA): number => 1.96 * fStandardError(m, lambda);

export interface PairedDifference {
  /** f(a) − f(b) on all the problems. */
  diff: number;
  /** 95% percentile interval of the difference over bootstrap draws. */
  low: number;
  high: number;
  /** Share of draws in which a's f is above b's. */
  aAbove: number;
}

/** f(a) − f(b) for two methods' verdicts on the same problems (a[i] and b[i] answer problem i),
 * with a paired bootstrap: each draw resamples problems, not verdicts, so the difficulty both
 * methods share cancels out and the interval is tighter than two separate intervals. Seeded, so a
 * report is reproducible. */
export function pairedFDifference(a: readonly VerdictKind[], b: readonly VerdictKind[], lambda = DEFAULT_LAMBDA, draws = 2000, seed = 0): PairedDifference {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`paired verdicts need two equal, non-empty lists (got ${a.length} and ${b.length})`);
  const code = (v: VerdictKind): number => (v === 'correct' ? 0 : v === 'idk' ? 2 : 1);
  const ca = a.map(code);
  const cb = b.map(code);
  const fOf = (n: readonly number[]): number => {
    const answered = n[0]! + n[1]!;
    const total = answered + n[2]!;
    return objective(answered === 0 ? 0 : n[0]! / answered, n[2]! / total, lambda);
  };
  const count = (pick: (i: number) => number): number => {
    const na = [0, 0, 0];
    const nb = [0, 0, 0];
    for (let k = 0; k < ca.length; k++) {
      const i = pick(k);
      na[ca[i]!]!++;
      nb[cb[i]!]!++;
    }
    return fOf(na) - fOf(nb);
  };
  const rng = createRng(seed);
  const diffs = Float64Array.from({ length: draws }, () => count(() => rng.int(0, ca.length - 1))).sort();
  const at = (q: number): number => diffs[Math.min(draws - 1, Math.max(0, Math.round(q * (draws - 1))))]!;
  return { diff: count((k) => k), low: at(0.025), high: at(0.975), aAbove: diffs.filter((d) => d > 0).length / draws };
}

/** f = (1 − λ)·precision + λ·(1 − idkRate) */
export function objective(precision: number, idkRate: number, lambda = DEFAULT_LAMBDA): number {
  return (1 - lambda) * precision + lambda * (1 - idkRate);
}

export function summarize(verdicts: Iterable<VerdictKind>, lambda = DEFAULT_LAMBDA): Metrics {
  let correct = 0;
  let wrong = 0;
  let idk = 0;
  for (const v of verdicts) {
    if (v === 'correct') correct++;
    else if (v === 'idk') idk++;
    else wrong++;
  }
  const total = correct + wrong + idk;
  const answered = total - idk;
  const accuracy = total === 0 ? 0 : correct / total;
  const precision = answered === 0 ? 0 : correct / answered;
  const idkRate = total === 0 ? 0 : idk / total;
  return { total, correct, wrong, idk, accuracy, precision, idkRate, f: objective(precision, idkRate, lambda) };
}

/** Unbiased pass@k from n samples of which c are correct: 1 − C(n−c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@k needs k ≤ n (k=${k}, n=${n})`);
  if (n - c < k) return 1;
  let ratio = 1;
  for (let i = n - c + 1; i <= n; i++) ratio *= 1 - k / i;
  return 1 - ratio;
}

/** maj@k: the most frequent non-refusal answer among the first k samples is correct (ties → the
 * answer seen first). `answers[i]` is a canonical answer key (null for refusals). */
export function majorityCorrect(answers: readonly (string | null)[], correct: readonly boolean[], k: number): boolean {
  const counts = new Map<string, { n: number; first: number }>();
  for (let i = 0; i < Math.min(k, answers.length); i++) {
    const a = answers[i];
    if (a === null || a === undefined) continue;
    const entry = counts.get(a);
    if (entry) entry.n++;
    else counts.set(a, { n: 1, first: i });
  }
  let best: { n: number; first: number } | null = null;
  for (const entry of counts.values()) {
    if (!best || entry.n > best.n || (entry.n === best.n && entry.first < best.first)) best = entry;
  }
  return best !== null && correct[best.first] === true;
}
