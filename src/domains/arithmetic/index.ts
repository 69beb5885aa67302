/** The arithmetic domain: evaluate an integer expression one operation per line, or answer an
 * imported GSM8K word problem. Formats and grading rules: generate.ts, reduce.ts, gsm8k.ts. */
import type { Domain, Problem, Verdict } from '../types.js';
import { formatCompletion, parseResponse, preVerdict } from '../response.js';
import { generateExpr, MAX_OPS, MIN_OPS, type ExprData } from './generate.js';
import { verifyGsm8k, type Gsm8kData } from './gsm8k.js';
import { verifyExpr } from './reduce.js';

export { importGsm8k, type Gsm8kData } from './gsm8k.js';
export { generateExpr, type ExprData } from './generate.js';

export type ArithmeticData = ExprData | Gsm8kData;

function verify(problem: Problem<ArithmeticData>, response: string): Verdict {
  const parsed = parseResponse(response);
  const early = preVerdict(parsed);
  if (early !== null) return early;
  const data = problem.data;
  if (data.kind === 'gsm8k') return verifyGsm8k(data, problem.goldSteps.length, parsed.steps, parsed.answer);
  return verifyExpr(data.expr, parsed.steps, parsed.answer);
}

export const arithmetic: Domain<ArithmeticData> = {
  name: 'arithmetic',
  description: 'integer expressions evaluated one operation per line (also imported GSM8K word problems)',
  difficulty: { name: 'operations', min: MIN_OPS, max: MAX_OPS },
  words: ['Evaluate '],
  generate: generateExpr,
  goldCompletion: (problem) => formatCompletion(problem.goldSteps, problem.goldAnswer),
  verify,
};
