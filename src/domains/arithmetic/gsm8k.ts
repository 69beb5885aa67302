/** GSM8K-style word problems: an importer for JSONL rows `{"question", "answer"}` whose answer
 * ends with `#### n`, and their grading. Steps are prose, so grading is on the final answer, plus
 * every computation that can be checked: calculator annotations `<<48/2=24>>` and lines that are
 * pure arithmetic (`48/2=24`). A stated result may be off by less than one unit of its last shown
 * decimal (rounded or truncated, as in the dataset: `<<10/3=3.33>>`, `<<10/3=3>>`) or by float
 * noise (`0.30000000000000004`). The final answer is compared exactly (`1,000`, `1000.0` and `1000`
 * are equal). */
import { UserError } from '../../cli/errors.js';
import { detectRefusal } from '../response.js';
import type { Problem, Verdict } from '../types.js';
import { decimalPlaces, evaluate, MAX_EXPR_CHARS, parseDecimal } from './expr.js';
import { closeAtDecimals, closeRelative, equals, type Rational } from './rational.js';
import { clip } from './step.js';

export interface Gsm8kData {
  kind: 'gsm8k';
  /** The gold final answer, commas removed. */
  answer: string;
}

const ANSWER_LINE = /^####\s*(.*)$/;

/** Problems from GSM8K JSONL text. Blank lines are skipped; a malformed line is a `UserError`
 * naming its line number. Rows whose gold solution reads as a refusal (a step saying
 * "unfortunately", "sorry", …) are skipped and reported through `onSkip`: their gold completion
 * would be graded as a hedge. */
export function importGsm8k(text: string, onSkip?: (line: number, reason: string) => void): Problem<Gsm8kData>[] {
  const problems: Problem<Gsm8kData>[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const lineNo = i + 1;
    const fail = (why: string): never => {
      throw new UserError(`GSM8K line ${lineNo}: ${why}`);
    };
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch {
      fail('not valid JSON');
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) fail('expected a JSON object');
    const { question, answer } = row as Record<string, unknown>;
    if (typeof question !== 'string' || question.trim() === '') fail('"question" must be a non-empty string');
    if (typeof answer !== 'string') fail('"answer" must be a string');
    const answerLines = (answer as string).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    const last = answerLines.length - 1;
    const match = last >= 0 ? ANSWER_LINE.exec(answerLines[last]!) : null;
    if (match === null) fail('"answer" must end with a line "#### <number>"');
    const steps = answerLines.slice(0, last);
    if (steps.some((l) => l.startsWith('####'))) fail('"answer" has more than one "####" line');
    const final = match![1]!.trim();
    if (parseDecimal(final) === null) fail(`final answer '${clip(final)}' is not a number`);
    if (steps.some(detectRefusal)) {
      onSkip?.(lineNo, 'a gold step reads as a refusal');
      continue;
    }
    const annotations = steps.reduce((n, l) => n + annotationsOf(l).length, 0);
    problems.push({
      id: `gsm8k-${lineNo}`,
      domain: 'arithmetic',
      difficulty: Math.max(1, annotations > 0 ? annotations : steps.length),
      prompt: (question as string).trim() + '\n',
      goldSteps: steps,
      goldAnswer: final.replace(/,/g, ''),
      data: { kind: 'gsm8k', answer: final.replace(/,/g, '') },
    });
  }
  return problems;
}

/** Contents of `<<…>>` annotations in a line (a linear scan, no regex backtracking). */
export function annotationsOf(line: string): string[] {
  const found: string[] = [];
  for (let at = line.indexOf('<<'); at >= 0; at = line.indexOf('<<', at + 2)) {
    const end = line.indexOf('>>', at + 2);
    if (end < 0) break;
    found.push(line.slice(at + 2, end));
    at = end;
  }
  return found;
}

/** Whether `claim` (a number literal or an expression) states `value`. */
function states(value: Rational, claim: string): boolean {
  const literal = parseDecimal(claim);
  if (literal !== null) {
    return equals(value, literal) || closeAtDecimals(value, literal, decimalPlaces(claim.trim())) || closeRelative(value, literal);
  }
  const other = evaluate(claim);
  return other !== null && (equals(value, other) || closeRelative(value, other));
}

/** A chain `e0 = e1 = …`: false when every part evaluates and one disagrees with the first;
 * null when it cannot be checked (prose, unknown syntax), which is tolerated. */
export function checkChain(text: string): boolean | null {
  if (text.length > 2 * MAX_EXPR_CHARS) return null;
  const parts = text.split('=');
  if (parts.length < 2) return null;
  const first = evaluate(parts[0]!);
  if (first === null || parts.slice(1).some((p) => evaluate(p) === null)) return null;
  return parts.slice(1).every((p) => states(first, p));
}

const PURE_ARITHMETIC = /^[0-9.,+\-−*×/÷()\s=]+$/;

const wrong = (depth: number, reason: string): Verdict => ({ verdict: 'wrong', depth, reason });

export function verifyGsm8k(data: Gsm8kData, goldSteps: number, steps: readonly string[], answer: string | null): Verdict {
  const depth = steps.length;
  if (answer === null) return wrong(depth, 'no final answer (#### line)');
  const given = parseDecimal(answer);
  if (given === null) return wrong(depth, `final answer '${clip(answer)}' is not a number`);
  if (depth === 0 && goldSteps > 0) return wrong(depth, 'no steps before the final answer');
  for (let k = 0; k < steps.length; k++) {
    const line = steps[k]!;
    for (const note of annotationsOf(line)) {
      if (checkChain(note) === false) return wrong(depth, `step ${k + 1}: computation <<${clip(note)}>> is false`);
    }
    if (line.includes('=') && line.length <= 2 * MAX_EXPR_CHARS && PURE_ARITHMETIC.test(line) && checkChain(line) === false) {
      return wrong(depth, `step ${k + 1}: ${clip(line)} is false`);
    }
  }
  const gold = parseDecimal(data.answer);
  if (gold === null) throw new Error(`GSM8K problem has a malformed gold answer '${data.answer}'`);
  if (!equals(given, gold)) return wrong(depth, `final answer ${clip(answer)} is not ${data.answer}`);
  return { verdict: 'correct', depth };
}
