/** The Auto-CEI curriculum over c1: initialisation from the initial model's refusals, hill climbing
 * between stages, and the early stop and best-round choice inside a stage (DESIGN.md §1). */

export interface Curriculum {
  c1: number;
  c2: number;
  /** Size of one hill-climbing move of c1. */
  step: number;
}

/** Population standard deviation, as numpy's default. */
function std(xs: readonly number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
}

/** c1 = mean(depth) + step, step = min(0.2·std, 0.5), c2 = −ln(0.1) / std / 4, over the depths of
 * the initial model's IDK responses. With fewer than two distinct depths the spread is undefined;
 * `fallbackStd` (default 1) stands in so that c2 stays finite. */
export function initCurriculum(idkDepths: readonly number[], fallbackStd = 1): Curriculum {
  if (idkDepths.length === 0) throw new RangeError('initCurriculum needs at least one IDK response depth');
  const mean = idkDepths.reduce((a, b) => a + b, 0) / idkDepths.length;
  let s = std(idkDepths);
  if (!(s > 1e-9)) s = fallbackStd;
  const step = Math.min(0.2 * s, 0.5);
  return { c1: mean + step, c2: -Math.log(0.1) / s / 4, step };
}

export interface StageScore {
  c1: number;
  /** The best f among the stage's rounds. */
  f: number;
}

/** Rounds c1 values to a grid so that revisits compare equal despite float drift. */
const key = (c1: number): number => Math.round(c1 * 1e6) / 1e6;

/**
 * Hill climbing on c1. Given the stages so far (in order) and the f of what came before the first
 * stage (the EI baseline round), returns the next c1, or null to stop.
 *
 * The first move is up (+step) if the first stage improved on the baseline, else down. After that
 * the climb keeps its direction while the last stage improved on every earlier one and reverses
 * otherwise. (Read as absolute directions, "+1 if improved, else −1" would keep descending while f
 * keeps falling; relative to the last move it is the usual hill climb, and both readings agree
 * whenever the climb moves up.) Stop when the next c1 was already visited and scored worse than the
 * best. When the next c1 is the best stage itself (a reversal after a worse move), re-running it
 * adds nothing: step once more in the same direction, under the same rule.
 */
export function nextC1(stages: readonly StageScore[], baselineF: number, step: number): number | null {
  if (stages.length === 0) throw new RangeError('nextC1 needs at least one finished stage');
  const last = stages[stages.length - 1]!;
  const earlierBest = Math.max(baselineF, ...stages.slice(0, -1).map((s) => s.f));
  const lastMove = stages.length >= 2 ? Math.sign(last.c1 - stages[stages.length - 2]!.c1) || 1 : 1;
  const dir = last.f > earlierBest ? lastMove : -lastMove;
  const visited = new Map<number, number>();
  for (const s of stages) visited.set(key(s.c1), Math.max(visited.get(key(s.c1)) ?? -Infinity, s.f));
  const bestF = Math.max(...stages.map((s) => s.f));
  let next = key(last.c1 + dir * step);
  for (let hops = 0; hops < 2; hops++) {
    const seen = visited.get(next);
    if (seen === undefined) return next;
    if (seen < bestF) return null;
    next = key(next + dir * step);
  }
  return null;
}

export interface RoundScore {
  precision: number;
  idkRate: number;
  f: number;
}

/** A stage stops early when both precision and idkRate moved by less than `tol` since the
 * previous round. */
export function stageConverged(prev: RoundScore, cur: RoundScore, tol = 0.003): boolean {
  return Math.abs(cur.precision - prev.precision) < tol && Math.abs(cur.idkRate - prev.idkRate) < tol;
}

/** Index of the highest f (the first one on ties). */
export function bestIndex(scores: readonly { f: number }[]): number {
  if (scores.length === 0) throw new RangeError('bestIndex of an empty list');
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]!.f > scores[best]!.f) best = i;
  return best;
}
