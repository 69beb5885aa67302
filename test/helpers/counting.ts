/** A toy domain for loop tests: count to n. Prompt `count to N #tag`, steps `1`..`N`, answer `N`;
 * difficulty = N. */
import type { Domain } from '../../src/domains/types.js';
import { formatCompletion, parseResponse, preVerdict } from '../../src/domains/response.js';
import { createRng } from '../../src/util/random.js';

export const counting: Domain<{ n: number }> = {
  name: 'counting',
  description: 'count to n',
  difficulty: { name: 'n', min: 1, max: 9 },
  generate(seed, n) {
    const tag = createRng(seed).int(0, 999);
    const steps = Array.from({ length: n }, (_, i) => String(i + 1));
    return { id: `c${n}-${tag}`, domain: 'counting', difficulty: n, prompt: `count to ${n} #${tag}`, goldSteps: steps, goldAnswer: String(n), data: { n } };
  },
  goldCompletion: (p) => formatCompletion(p.goldSteps, p.goldAnswer),
  verify(problem, response) {
    const parsed = parseResponse(response);
    const pre = preVerdict(parsed);
    if (pre) return pre;
    const ok = parsed.answer === problem.goldAnswer && parsed.steps.join(',') === problem.goldSteps.join(',');
    return ok ? { verdict: 'correct', depth: parsed.steps.length } : { verdict: 'wrong', depth: parsed.steps.length, reason: `miscounted: stopped at ${parsed.steps.at(-1) ?? 'nothing'}` };
  },
};
