/** Theory generation for a target label and proof depth.
 *
 * The skeleton is a chain of `depth` rules lit0 => lit1 => … => lit_depth, where lit_depth is the
 * question (proved), its negation (disproved) or either (unknown). Some chain rules take an extra
 * condition that is a fact. For unknown, one condition at the bottom of the chain is missing (not
 * mentioned, or its negation is a fact), so the failure runs through the whole chain.
 * Around it:
 * - conflicts at one or two chain levels, BoardgameQA style: a preferred rule with the opposite
 *   conclusion whose condition fails (the chain rule wins only after showing that), or a rule with
 *   the opposite conclusion that fires but is ranked below the chain rule (it is overridden);
 * - distractor rules (some fire, some cannot) on fresh atoms, and distractor facts.
 * Every pair of rules with opposite heads gets a preference. Rules and facts are shuffled. The
 * draft is kept only if the gold prover confirms the label and the depth; otherwise another draft is
 * made from the same random stream, so the result stays deterministic for (seed, depth). The gold
 * steps are the search trace (prove.ts), which reaches the same label. */
import { createRng, type Rng } from '../../util/random.js';
import { goldTrace, searchTrace } from './prove.js';
import { LABELS, negate, type Label, type Literal, type LogicData, type Rule } from './theory.js';

export const ENTITIES = ['cat', 'dog', 'owl', 'ant', 'yak', 'elk', 'fox', 'bee'] as const;
export const PREDICATES = ['red', 'big', 'hot', 'sly', 'fat', 'shy', 'old', 'wet'] as const;
export const MIN_DEPTH = 1;
export const MAX_DEPTH = 6;

export const ATOMS: readonly Literal[] = ENTITIES.flatMap((e) => PREDICATES.map((p) => `${e} ${p}`));
/** Drafts are rarely rejected (about 1 in 2,000); the bound only guards against a bad change. */
const MAX_DRAFTS = 500;

export interface Generated {
  data: LogicData;
  /** The search trace (gold steps) and the proof depth of the minimal chain. */
  steps: string[];
  depth: number;
}

export function generateTheory(seed: number, depth: number): Generated {
  // The depth is mixed in so that one seed gives unrelated problems at different depths.
  const rng = createRng((seed ^ Math.imul(depth, 0x9e3779b1)) >>> 0);
  const label = LABELS[rng.int(0, LABELS.length - 1)]!;
  for (let i = 0; i < MAX_DRAFTS; i++) {
    const data = draft(rng, depth, label);
    const trace = goldTrace(data);
    if (!trace || trace.label !== label || trace.depth !== depth) continue;
    const search = searchTrace(data);
    if (search && search.label === label) return { data, steps: search.steps, depth };
  }
  throw new Error(`logic: no theory found for seed ${seed}, depth ${depth}`);
}

function draft(rng: Rng, depth: number, label: Label): LogicData {
  const pool = rng.shuffle([...ATOMS]);
  let used = 0;
  const fresh = (): Literal => pool[used++]!;
  const maybeNeg = (atom: Literal): Literal => (rng.next() < 0.3 ? negate(atom) : atom);
  const chance = (p: number): boolean => rng.next() < p;

  let facts: Literal[] = [];
  const rules: Rule[] = [];
  const prefs: [Rule, Rule][] = [];

  // The chain.
  const question = fresh();
  const lits: Literal[] = [];
  for (let k = 0; k < depth; k++) lits.push(maybeNeg(fresh()));
  lits.push(label === 'proved' ? question : label === 'disproved' ? negate(question) : chance(0.5) ? question : negate(question));
  facts.push(lits[0]!);
  const chain: Rule[] = [];
  for (let k = 1; k <= depth; k++) {
    const body = [lits[k - 1]!];
    if (chance(0.35)) {
      const extra = maybeNeg(fresh());
      facts.push(extra);
      body.splice(rng.int(0, 1), 0, extra);
    }
    chain.push({ body, head: lits[k]! });
  }
  rules.push(...chain);
  if (label === 'unknown') {
    const gap = rng.pick(chain[0]!.body);
    facts = facts.filter((f) => f !== gap);
    if (chance(0.5)) facts.push(negate(gap));
  }
  for (let i = depth >= 3 ? 2 : 1; i > 0; i--) facts.push(maybeNeg(fresh()));

  // A condition that fails: not mentioned anywhere else, or its negation is a fact.
  const failing = (): Literal => {
    const literal = maybeNeg(fresh());
    if (chance(0.5)) facts.push(negate(literal));
    return literal;
  };

  // Conflicts.
  const levels = rng.shuffle(Array.from({ length: depth }, (_, i) => i + 1));
  if (chance(0.5)) levels.unshift(depth);
  const conflicts = new Set(levels.slice(0, depth >= 4 ? rng.int(1, 2) : 1));
  for (const k of conflicts) {
    const target = chain[k - 1]!;
    const opposite = negate(lits[k]!);
    if (chance(0.5) || (label === 'unknown' && k === depth)) {
      // A preferred exception whose condition fails.
      const m = failing();
      const body = chance(0.5) ? rng.shuffle([lits[k - 1]!, m]) : [m];
      const exception = { body, head: opposite };
      rules.push(exception);
      // When the whole chain fails the ranking does not matter; random, so it gives nothing away.
      const ranked = label === 'unknown' && k === depth && chance(0.5);
      prefs.push(ranked ? [target, exception] : [exception, target]);
    } else {
      // An overridden default: fires (or not) but is ranked below the chain rule.
      const r = rng.next();
      const y = r < 0.4 ? lits[k - 1]! : r < 0.7 ? rng.pick(facts) : r < 0.85 ? failing() : maybeNeg(fresh());
      if (r >= 0.85) facts.push(y);
      const fallback = { body: [y], head: opposite };
      rules.push(fallback);
      prefs.push([target, fallback]);
    }
  }

  // Distractors.
  const live: Literal[] = [...facts];
  if (label !== 'unknown') live.push(...lits.slice(0, depth));
  const distractors = 2 + Math.floor(depth / 2);
  for (let i = 0; i < distractors; i++) {
    if (chance(0.5)) {
      const body = pickDistinct(rng, live, chance(0.4) ? 2 : 1);
      const head = maybeNeg(fresh());
      rules.push({ body, head });
      live.push(head);
    } else {
      const missing = chance(0.3) ? negate(rng.pick(facts)) : failing();
      // Sometimes a second, dead way to a chain literal (more to rule out when the chain fails);
      // its other condition is then a fact, so that no cycle through the chain appears.
      const toChain = depth >= 2 && chance(0.3);
      const head = toChain ? lits[rng.int(1, depth - 1)]! : maybeNeg(fresh());
      const body = chance(0.5) ? rng.shuffle([missing, rng.pick(toChain ? facts : live)]) : [missing];
      rules.push({ body, head });
    }
  }

  // Every pair of opposite rules is ranked.
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i]!;
      const b = rules[j]!;
      if (a.head !== negate(b.head)) continue;
      if (prefs.some(([w, l]) => (w === a && l === b) || (w === b && l === a))) continue;
      prefs.push(chance(0.5) ? [a, b] : [b, a]);
    }
  }

  rng.shuffle(rules);
  const number = new Map(rules.map((rule, i) => [rule, i + 1]));
  return {
    facts: rng.shuffle([...new Set(facts)]),
    rules: rules.map((rule) => ({ body: [...new Set(rule.body)], head: rule.head })),
    prefs: rng.shuffle(prefs.map(([w, l]) => [number.get(w)!, number.get(l)!] as [number, number])),
    question,
    label,
  };
}

function pickDistinct(rng: Rng, items: readonly Literal[], count: number): Literal[] {
  const unique = [...new Set(items)];
  return rng.shuffle(unique).slice(0, Math.min(count, unique.length));
}
