/** The verifier: checks the label and every step against the theory, in order.
 *
 * A step is valid when it follows from the facts, the rules and the earlier steps:
 * - `rN: <rule N restated> ` — every body literal is a fact or derived earlier, the head's negation
 *   is not a fact, and every rule with the opposite head that rN is not preferred over has been
 *   shown to fail earlier (so a rule overridden by a firing preferred rule can never be applied);
 * - `rN: ? lit` — lit is in rN's body, is not a fact nor derived, and is underivable: `~lit` is a
 *   fact or every rule concluding lit has been shown to fail earlier;
 * - `? atom` — neither the atom nor its negation is a fact, and every rule concluding either has
 *   been shown to fail earlier.
 * - `> …` — a note; it claims nothing and is not checked.
 * By induction every accepted step is true in the theory, so the label check that follows is
 * backed by the steps: `proved` / `disproved` need the step deriving the question / its negation,
 * `unknown` needs the `? question` step. */
import { parseResponse, preVerdict } from '../response.js';
import type { Problem, Verdict } from '../types.js';
import { parseStep } from './format.js';
import { indexTheory, LABELS, negate, preferred, rulesFor, type Label, type Literal, type LogicData } from './theory.js';

const ATOM = /^[a-z]+ [a-z]+$/;

/** Model text echoed in a reason is clipped (after escaping, which can lengthen it), so reasons
 * stay one short line. */
function quote(text: string): string {
  const json = JSON.stringify(text);
  return json.length > 48 ? `${json.slice(0, 46)}…"` : json;
}

export function verifyLogic(problem: Problem<LogicData>, response: string): Verdict {
  const parsed = parseResponse(response);
  const pre = preVerdict(parsed);
  if (pre) return pre;
  const data = problem.data;
  const index = indexTheory(data);
  const depth = parsed.steps.length;
  const wrong = (reason: string): Verdict => ({ verdict: 'wrong', depth, reason });

  const derived = new Set<Literal>();
  const failed = new Set<number>();
  const undecided = new Set<Literal>();
  const holds = (literal: Literal): boolean => index.facts.has(literal) || derived.has(literal);
  const open = (literal: Literal): number | undefined => rulesFor(index, literal).find((m) => !failed.has(m));

  for (let i = 0; i < parsed.steps.length; i++) {
    const at = `step ${i + 1}`;
    const step = parseStep(parsed.steps[i]!);
    if (!step) return wrong(`${at}: not a step (rN: rule, rN: ? literal, ? atom, or > note): ${quote(parsed.steps[i]!)}`);
    if (step.kind === 'note') continue;
    if (step.kind === 'undecided') {
      const atom = step.literal;
      if (!ATOM.test(atom)) return wrong(`${at}: ${quote(atom)} is not an atom`);
      if (index.facts.has(atom) || index.facts.has(negate(atom))) return wrong(`${at}: ${atom} is decided by a fact`);
      const rule = open(atom) ?? open(negate(atom));
      if (rule !== undefined) return wrong(`${at}: r${rule} concludes ${atom} or its negation and is not shown to fail`);
      undecided.add(atom);
      continue;
    }
    const n = step.rule;
    const rule = data.rules[n - 1];
    if (!rule) return wrong(`${at}: there is no rule r${n}`);
    if (step.kind === 'apply') {
      if (step.text !== index.texts[n - 1]) return wrong(`${at}: r${n} does not read ${quote(step.text)}`);
      const missing = rule.body.find((b) => !holds(b));
      if (missing !== undefined) return wrong(`${at}: ${missing} is neither a fact nor derived earlier`);
      const opposite = negate(rule.head);
      if (index.facts.has(opposite)) return wrong(`${at}: ${opposite} is a fact`);
      const rival = rulesFor(index, opposite).find((m) => !preferred(index, n, m) && !failed.has(m));
      if (rival !== undefined) {
        const rank = preferred(index, rival, n) ? `preferred over r${n}` : `not ranked below r${n}`;
        return wrong(`${at}: r${rival} (${rank}) concludes ${opposite} and is not shown to fail`);
      }
      derived.add(rule.head);
      continue;
    }
    const literal = step.literal;
    if (!rule.body.includes(literal)) return wrong(`${at}: ${quote(literal)} is not a condition of r${n}`);
    if (holds(literal)) return wrong(`${at}: ${literal} holds`);
    if (!index.facts.has(negate(literal))) {
      const rival = open(literal);
      if (rival !== undefined) return wrong(`${at}: r${rival} concludes ${literal} and is not shown to fail`);
    }
    failed.add(n);
  }

  if (parsed.answer === null) return wrong('no final answer line (#### proved, disproved or unknown)');
  const answer = parsed.answer.toLowerCase() as Label;
  if (!LABELS.includes(answer)) return wrong(`final answer ${quote(parsed.answer)} is not proved, disproved or unknown`);
  const question = data.question;
  if (answer === 'proved' && !derived.has(question)) return wrong(`answer proved without a step deriving ${question}`);
  if (answer === 'disproved' && !derived.has(negate(question))) {
    return wrong(`answer disproved without a step deriving ${negate(question)}`);
  }
  if (answer === 'unknown' && !undecided.has(question)) return wrong(`answer unknown without the step "? ${question}"`);
  // Unreachable for a consistent theory (the steps above are sound); kept as a guard.
  if (answer !== data.label) return wrong(`answer ${answer}, but the question is ${data.label}`);
  return { verdict: 'correct', depth };
}
