/** Theories of the logic domain: facts, rules and preferences between conflicting rules, their
 * index for fast lookups, and their meaning (which literals hold).
 *
 * Meaning (defeasible, BoardgameQA style, open world):
 * - a fact holds, and its negation cannot be derived (facts are strict);
 * - a rule *fires* when every literal of its body holds;
 * - a rule *applies* when it fires and every firing rule with the opposite head is one it is
 *   preferred over; the head of an applying rule holds;
 * - nothing else holds: a literal neither fact nor derived is unknown, not false.
 * Generated theories are acyclic, so the meaning is well defined. */

/** An atom `ent pred` ("the ent is pred") or its negation `~ent pred`. */
export type Literal = string;
export type Label = 'proved' | 'disproved' | 'unknown';
export const LABELS: readonly Label[] = ['proved', 'disproved', 'unknown'];

export interface Rule {
  body: Literal[];
  head: Literal;
}

/** What `problem.data` holds (plain JSON). Rule `rN` is `rules[N - 1]`; each preference is
 * `[winner, loser]` as rule numbers; `question` is a positive atom. */
export interface LogicData {
  facts: Literal[];
  rules: Rule[];
  prefs: [number, number][];
  question: Literal;
  label: Label;
}

export function negate(literal: Literal): Literal {
  return literal.startsWith('~') ? literal.slice(1) : `~${literal}`;
}

/** Head first (`~yak sly <= cat red & owl fat`): a model looking up the rules for a literal finds
 * the rule's number and its conditions right after the literal it matched, which a small
 * transformer learns to copy far sooner than text that comes before the match. */
export function ruleText(rule: Rule): string {
  return `${rule.head} <= ${rule.body.join(' & ')}`;
}

export interface TheoryIndex {
  facts: Set<Literal>;
  /** Rule numbers by head literal, ascending. */
  byHead: Map<Literal, number[]>;
  /** `w>l` for each preference. */
  prefs: Set<string>;
  /** Canonical text of rule N at index N - 1. */
  texts: string[];
}

const NONE: readonly number[] = [];
const cache = new WeakMap<LogicData, TheoryIndex>();

/** The index of a theory, built once per data object (verify is called many times per problem). */
export function indexTheory(data: LogicData): TheoryIndex {
  const hit = cache.get(data);
  if (hit) return hit;
  const byHead = new Map<Literal, number[]>();
  data.rules.forEach((rule, i) => {
    const list = byHead.get(rule.head);
    if (list) list.push(i + 1);
    else byHead.set(rule.head, [i + 1]);
  });
  const index: TheoryIndex = {
    facts: new Set(data.facts),
    byHead,
    prefs: new Set(data.prefs.map(([w, l]) => `${w}>${l}`)),
    texts: data.rules.map(ruleText),
  };
  cache.set(data, index);
  return index;
}

export function rulesFor(index: TheoryIndex, head: Literal): readonly number[] {
  return index.byHead.get(head) ?? NONE;
}

export function preferred(index: TheoryIndex, winner: number, loser: number): boolean {
  return index.prefs.has(`${winner}>${loser}`);
}

/** The ground-truth label of the question under the meaning above. */
export function decide(data: LogicData): Label {
  const holds = holdsFn(data);
  if (holds(data.question)) return 'proved';
  if (holds(negate(data.question))) return 'disproved';
  return 'unknown';
}

/** A memoised `holds(literal)` for one theory. */
export function holdsFn(data: LogicData): (literal: Literal) => boolean {
  const index = indexTheory(data);
  const memo = new Map<Literal, boolean>();
  const fires = (n: number): boolean => data.rules[n - 1]!.body.every(holds);
  function holds(literal: Literal): boolean {
    const known = memo.get(literal);
    if (known !== undefined) return known;
    if (index.facts.has(literal)) return true;
    const opposite = negate(literal);
    if (index.facts.has(opposite)) return false;
    memo.set(literal, false); // guards against cycles in hand-made theories
    const rivals = rulesFor(index, opposite);
    const result = rulesFor(index, literal).some(
      (n) => fires(n) && rivals.every((m) => preferred(index, n, m) || !fires(m)),
    );
    memo.set(literal, result);
    return result;
  }
  return holds;
}
