/** The Countdown domain: reach a target from given numbers with + - * /, one operation per line.
 * Formats and rules: generate.ts, verify.ts; gold solutions come from solve.ts. */
import type { Domain, Problem, Verdict } from '../types.js';
import { formatCompletion, parseResponse, preVerdict } from '../response.js';
import { generateCountdown, MAX_NUMBERS, MIN_NUMBERS, type CountdownData } from './generate.js';
import { verifyCountdown } from './verify.js';

export { generateCountdown, type CountdownData } from './generate.js';
export { createSolver, solve, type SolvedStep } from './solve.js';

function verify(problem: Problem<CountdownData>, response: string): Verdict {
  const parsed = parseResponse(response);
  return preVerdict(parsed) ?? verifyCountdown(problem.data, parsed.steps, parsed.answer);
}

export const countdown: Domain<CountdownData> = {
  name: 'countdown',
  description: 'reach a target from given numbers with + - * /, each number used at most once',
  difficulty: { name: 'numbers', min: MIN_NUMBERS, max: MAX_NUMBERS },
  words: ['Use ', ' to make '],
  generate: generateCountdown,
  goldCompletion: (problem) => formatCompletion(problem.goldSteps, problem.goldAnswer),
  verify,
};
