/** Text formats of the logic domain: the prompt and the three kinds of step line.
 *
 * Prompt (one item per line, kept short for a character-level model):
 *   facts: cat red, ~dog big          facts, `~` is negation
 *   r1: ~yak sly <= cat red & owl fat  rules, head first, numbered in order
 *   r2>r1                             preferences: r2 wins over r1 when both fire
 *   q: yak sly?                       the question, always a positive atom
 *
 * Steps:
 *   r1: ~yak sly <= cat red & owl fat  apply r1 (restated exactly): derive its head
 *   r3: ? dog big                      r3 cannot fire: its condition `dog big` cannot be derived
 *   ? yak sly                          neither `yak sly` nor `~yak sly` can be derived
 *   > r1: owl fat                      a note: the search now checks r1's condition `owl fat`
 *   > r1: ~yak sly <= cat red & owl fat  a note: the search tries r1 (restated)
 * Notes claim nothing; they let a trace say where its search stands (see searchTrace). */
import { ruleText, type Literal, type LogicData } from './theory.js';

export function applyStep(n: number, text: string): string {
  return `r${n}: ${text}`;
}

export function blockStep(n: number, literal: Literal): string {
  return `r${n}: ? ${literal}`;
}

export function noteStep(n: number, literal: Literal): string {
  return `> r${n}: ${literal}`;
}

export function undecidedStep(atom: Literal): string {
  return `? ${atom}`;
}

export function renderPrompt(data: LogicData): string {
  const lines = [`facts: ${data.facts.join(', ')}`];
  data.rules.forEach((rule, i) => lines.push(`r${i + 1}: ${ruleText(rule)}`));
  if (data.prefs.length > 0) lines.push(data.prefs.map(([w, l]) => `r${w}>r${l}`).join(' '));
  lines.push(`q: ${data.question}?`);
  return lines.join('\n') + '\n';
}

export type Step =
  | { kind: 'apply'; rule: number; text: string }
  | { kind: 'block'; rule: number; literal: string }
  | { kind: 'undecided'; literal: string }
  | { kind: 'note' };

const RULE_STEP = /^r([1-9]\d{0,3}): (.*)$/;

/** One step line (already trimmed); runs of white space count as one space. Null when the line is
 * none of the kinds. */
export function parseStep(line: string): Step | null {
  const text = line.replace(/\s+/g, ' ');
  if (text.startsWith('>')) return { kind: 'note' };
  const ruleStep = RULE_STEP.exec(text);
  if (ruleStep) {
    const rule = Number(ruleStep[1]);
    const rest = ruleStep[2]!;
    if (rest.startsWith('? ')) return { kind: 'block', rule, literal: rest.slice(2) };
    return { kind: 'apply', rule, text: rest };
  }
  if (text.startsWith('? ')) return { kind: 'undecided', literal: text.slice(2) };
  return null;
}
