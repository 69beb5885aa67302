/** The gold prover: writes the step chain that the verifier accepts for the true label.
 *
 * - proved / disproved: the derivation of the question (or its negation), each literal after the
 *   derivations of its rule's body. Before a rule is applied, every rival rule (opposite head) that
 *   is not ranked below it is shown to fail with a `rN: ? lit` step.
 * - unknown: every rule concluding the question or its negation is shown to fail, then `? atom`.
 *   A failure `rN: ? lit` needs `lit` shown underivable first: `~lit` is a fact, or every rule
 *   concluding `lit` has failed in an earlier step. So the chain of failures is written bottom-up.
 * Where there are choices, the cheapest one (fewest steps, first rule on ties) is taken.
 *
 * `depth` is the knob the generator controls: the longest chain of derivations under the
 * question (proved / disproved), or of failures (unknown). Steps showing a rival fails don't count. */
import { applyStep, blockStep, noteStep, undecidedStep } from './format.js';
import { decide, indexTheory, negate, preferred, rulesFor, type Label, type Literal, type LogicData } from './theory.js';

export interface GoldTrace {
  label: Label;
  steps: string[];
  depth: number;
}

/** Null when the label's chain cannot be written in the step language (the generator retries). */
export function goldTrace(data: LogicData): GoldTrace | null {
  const index = indexTheory(data);
  const label = decide(data);
  const rules = data.rules;

  // Costs in steps, ignoring sharing; Infinity where no chain exists. Memo doubles as cycle guard.
  const refuteMemo = new Map<Literal, number>();
  const blockMemo = new Map<number, { cost: number; literal: Literal | null }>();
  const proveMemo = new Map<Literal, { cost: number; rule: number }>();

  const rivals = (n: number): number[] =>
    rulesFor(index, negate(rules[n - 1]!.head)).filter((m) => !preferred(index, n, m));

  function refuteCost(literal: Literal): number {
    const known = refuteMemo.get(literal);
    if (known !== undefined) return known;
    if (index.facts.has(literal)) return Infinity;
    if (index.facts.has(negate(literal))) return 0;
    refuteMemo.set(literal, Infinity);
    let cost = 0;
    for (const n of rulesFor(index, literal)) cost += block(n).cost;
    refuteMemo.set(literal, cost);
    return cost;
  }

  function block(n: number): { cost: number; literal: Literal | null } {
    const known = blockMemo.get(n);
    if (known) return known;
    blockMemo.set(n, { cost: Infinity, literal: null });
    let best: { cost: number; literal: Literal | null } = { cost: Infinity, literal: null };
    for (const literal of rules[n - 1]!.body) {
      const cost = 1 + refuteCost(literal);
      if (cost < best.cost) best = { cost, literal };
    }
    blockMemo.set(n, best);
    return best;
  }

  function prove(literal: Literal): { cost: number; rule: number } {
    const known = proveMemo.get(literal);
    if (known) return known;
    if (index.facts.has(literal)) return { cost: 0, rule: 0 };
    proveMemo.set(literal, { cost: Infinity, rule: 0 });
    let best = { cost: Infinity, rule: 0 };
    if (!index.facts.has(negate(literal))) {
      for (const n of rulesFor(index, literal)) {
        let cost = 1;
        for (const b of rules[n - 1]!.body) cost += prove(b).cost;
        for (const m of rivals(n)) cost += block(m).cost;
        if (cost < best.cost) best = { cost, rule: n };
      }
    }
    proveMemo.set(literal, best);
    return best;
  }

  const steps: string[] = [];
  const heights = new Map<Literal, number>();
  const blockHeights = new Map<number, number>();

  function emitProof(literal: Literal): number {
    if (index.facts.has(literal)) return 0;
    const known = heights.get(literal);
    if (known !== undefined) return known;
    const n = prove(literal).rule;
    let height = 0;
    for (const b of rules[n - 1]!.body) height = Math.max(height, emitProof(b));
    for (const m of rivals(n)) emitBlock(m);
    steps.push(applyStep(n, index.texts[n - 1]!));
    heights.set(literal, height + 1);
    return height + 1;
  }

  function emitBlock(n: number): number {
    const known = blockHeights.get(n);
    if (known !== undefined) return known;
    const literal = block(n).literal!;
    const height = 1 + emitRefutation(literal);
    steps.push(blockStep(n, literal));
    blockHeights.set(n, height);
    return height;
  }

  function emitRefutation(literal: Literal): number {
    if (index.facts.has(negate(literal))) return 0;
    let height = 0;
    for (const n of rulesFor(index, literal)) height = Math.max(height, emitBlock(n));
    return height;
  }

  const question = data.question;
  if (label === 'unknown') {
    const all = [...rulesFor(index, question), ...rulesFor(index, negate(question))].sort((a, b) => a - b);
    if (all.some((n) => block(n).cost === Infinity)) return null;
    let depth = 0;
    for (const n of all) depth = Math.max(depth, emitBlock(n));
    steps.push(undecidedStep(question));
    return { label, steps, depth };
  }
  const target = label === 'proved' ? question : negate(question);
  if (prove(target).cost === Infinity) return null;
  const depth = emitProof(target);
  return { label, steps, depth };
}

/** The search trace: the gold steps the domain trains on. A depth-first search from the question
 * that writes down where it is, so each line follows from the lines just above it and the theory,
 * without looking ahead:
 * - the question is tried first, then its negation, each through its rules in number order;
 * - a rule's conditions are checked in order; a condition that is a fact (or derived already) is
 *   passed over, any other gets a note `> rN: lit` and is searched the same way;
 * - a condition shown to fail blocks its rule (`rN: ? lit`); a rule whose conditions hold has its
 *   unranked rivals blocked the same way and is then applied (`rN: …`);
 * - when neither the question nor its negation holds and every rule for them is blocked: `? q`.
 * Attempts that lead nowhere stay in the trace (their steps are true, so the verifier accepts them).
 * Null when the search ends without the label's step. */
export function searchTrace(data: LogicData): { label: Label; steps: string[] } | null {
  const index = indexTheory(data);
  const rules = data.rules;
  const steps: string[] = [];
  const derived = new Set<Literal>();
  const refuted = new Set<Literal>();
  const blocked = new Set<number>();
  const stuck = new Set<Literal>();
  const active = new Set<Literal>();

  const holds = (l: Literal): boolean => index.facts.has(l) || derived.has(l);
  const fails = (l: Literal): boolean => index.facts.has(negate(l)) || refuted.has(l);

  /** Searches `literal`: true when it holds, false when it fails, null when neither can be shown. */
  function search(literal: Literal): boolean | null {
    if (holds(literal)) return true;
    if (fails(literal)) return false;
    if (stuck.has(literal) || active.has(literal)) return null;
    active.add(literal);
    for (const n of rulesFor(index, literal)) {
      if (!blocked.has(n) && tryRule(n)) break;
    }
    active.delete(literal);
    if (derived.has(literal)) return true;
    if (rulesFor(index, literal).every((n) => blocked.has(n))) {
      refuted.add(literal);
      return false;
    }
    stuck.add(literal);
    return null;
  }

  /** Checks rule n's conditions in order; blocks it at the first that fails. True when every
   * condition holds. */
  function conditions(n: number): boolean {
    // The rule is restated before its conditions are checked: a copy of its prompt line, so the
    // lines after it read the conditions from just above rather than from the prompt.
    steps.push(noteStep(n, index.texts[n - 1]!));
    let all = true;
    for (const b of rules[n - 1]!.body) {
      if (holds(b)) continue;
      steps.push(noteStep(n, b));
      const result = search(b);
      if (result === false) {
        steps.push(blockStep(n, b));
        blocked.add(n);
        return false;
      }
      if (result === null) all = false;
    }
    return all;
  }

  /** Applies rule n when its conditions hold and its unranked rivals are blocked. */
  function tryRule(n: number): boolean {
    if (!conditions(n)) return false;
    const rivals = rulesFor(index, negate(rules[n - 1]!.head)).filter((m) => !preferred(index, n, m));
    for (const m of rivals) {
      if (blocked.has(m)) continue;
      if (conditions(m) || !blocked.has(m)) return false;
    }
    steps.push(applyStep(n, index.texts[n - 1]!));
    derived.add(rules[n - 1]!.head);
    return true;
  }

  const question = data.question;
  if (search(question) === true) return { label: 'proved', steps };
  if (search(negate(question)) === true) return { label: 'disproved', steps };
  // A fact would have made one of the searches above hold, so both failing means both refuted.
  if (!fails(question) || !fails(negate(question))) return null;
  steps.push(undecidedStep(question));
  return { label: 'unknown', steps };
}
