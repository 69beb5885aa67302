/** Response format shared by all domains: one reasoning step per line, optional `#### answer`,
 * or a refusal sentence. Everything here is total: any string in, a value out, bounded time. */
import type { ParsedResponse, Verdict } from './types.js';

export const REFUSAL = 'Sorry, the problem is too difficult. I cannot solve it.';

/** Responses longer than this are graded on their prefix and marked truncated (→ wrong). */
export const MAX_RESPONSE_CHARS = 64 * 1024;

/** Phrases the Auto-CEI reference treats as a refusal (case-insensitive), plus close variants. */
const REFUSAL_PATTERN =
  /i\s+(?:do\s*not|don[’'`]?t)\s+know|\bsorry\b|too\s+difficult|\bunfortunate|\bno\s+answer\b|\bcannot\s+solve\b|\bcan[’'`]?t\s+solve\b|\bunable\s+to\s+solve\b/i;

export function detectRefusal(text: string): boolean {
  return REFUSAL_PATTERN.test(text);
}

const ANSWER_PREFIX = /^\s*####\s*/;

/** Split a response into steps / final answer / refusal. Blank lines are ignored. The first
 * `####` line is the final answer; lines after the answer or the refusal are not steps, but both
 * are still looked for everywhere, so that an answer given next to a refusal is seen as a hedge. */
export function parseResponse(response: string): ParsedResponse {
  const truncated = response.length > MAX_RESPONSE_CHARS;
  const text = truncated ? response.slice(0, MAX_RESPONSE_CHARS) : response;
  const steps: string[] = [];
  let answer: string | null = null;
  let refused = false;
  let refusalDepth = 0;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!refused && detectRefusal(line)) {
      refused = true;
      refusalDepth = steps.length;
      continue;
    }
    if (answer === null && ANSWER_PREFIX.test(line)) {
      answer = line.replace(ANSWER_PREFIX, '').trim();
      continue;
    }
    if (answer === null && !refused) steps.push(line);
  }
  return { steps, answer, refused, refusalDepth, truncated };
}

/** The verdict rules every domain shares, applied before any domain-specific checking:
 * - over-long response → wrong;
 * - refusal with a final answer anywhere (a hedge) → wrong, so hedging never earns the IDK reward;
 * - refusal → idk with depth = steps before the refusal.
 * Returns null when the response is an attempt the domain must check itself. */
export function preVerdict(parsed: ParsedResponse): Verdict | null {
  if (parsed.truncated) {
    return { verdict: 'wrong', depth: parsed.steps.length, reason: `response longer than ${MAX_RESPONSE_CHARS} characters` };
  }
  if (parsed.refused) {
    if (parsed.answer !== null) {
      return { verdict: 'wrong', depth: parsed.refusalDepth, reason: 'hedge: both a final answer and a refusal' };
    }
    return { verdict: 'idk', depth: parsed.refusalDepth };
  }
  return null;
}

/** A completion in the training format: step lines, then `#### answer` when there is one. */
export function formatCompletion(steps: readonly string[], answer: string | null): string {
  const lines = [...steps];
  if (answer !== null) lines.push(`#### ${answer}`);
  return lines.join('\n');
}

/** R-Tuning refusal example: the gold chain cut after `keep` steps, then the refusal sentence. */
export function refusalCompletion(steps: readonly string[], keep: number): string {
  return [...steps.slice(0, Math.max(0, Math.min(keep, steps.length))), REFUSAL].join('\n');
}
