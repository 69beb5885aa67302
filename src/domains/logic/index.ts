/** The logic domain: rule reasoning with exceptions and preferences (a stand-in for BoardgameQA).
 * A question is proved, disproved or unknown from facts and ranked rules; the response derives it
 * step by step. See theory.ts for the meaning, format.ts for the text formats, prove.ts for the
 * gold traces and verify.ts for grading. */
import { formatCompletion } from '../response.js';
import type { Domain, Problem } from '../types.js';
import { renderPrompt } from './format.js';
import { ATOMS, ENTITIES, generateTheory, MAX_DEPTH, MIN_DEPTH, PREDICATES } from './generate.js';
import { searchTrace } from './prove.js';
import { decide, type LogicData } from './theory.js';
import { verifyLogic } from './verify.js';

export type { LogicData } from './theory.js';

/** A problem for a given theory (hand-made theories in tests and importers). The label is taken
 * from the theory's meaning; throws when the gold chain cannot be written. */
export function problemFromTheory(id: string, difficulty: number, theory: Omit<LogicData, 'label'>): Problem<LogicData> {
  const draft: LogicData = { ...theory, label: 'unknown' };
  const trace = searchTrace(draft);
  if (!trace || trace.label !== decide(draft)) throw new Error(`logic: no gold chain for ${id}`);
  const data: LogicData = { ...theory, label: trace.label };
  return { id, domain: 'logic', difficulty, prompt: renderPrompt(data), goldSteps: trace.steps, goldAnswer: trace.label, data };
}

export const logic: Domain<LogicData> = {
  name: 'logic',
  description: 'rule reasoning with exceptions and preferences: is the question proved, disproved or unknown?',
  difficulty: { name: 'depth', min: MIN_DEPTH, max: MAX_DEPTH },
  // Every atom is one token, and so is a rule's label `rN: `, which in the prompt starts rule N's
  // line and nothing else (preferences spell `rN>rM` out): restating rule N is then copying what
  // follows the one earlier `rN: `, the pattern small transformers learn to copy first.
  words: [
    'facts: ', 'q: ', ' <= ', ' & ', '#### proved', '#### disproved', '#### unknown',
    ...ATOMS, ...ENTITIES.map((e) => `${e} `), ...PREDICATES, ...Array.from({ length: 16 }, (_, i) => `r${i + 1}: `),
  ],
  generate(seed: number, difficulty: number): Problem<LogicData> {
    if (!Number.isInteger(difficulty) || difficulty < MIN_DEPTH || difficulty > MAX_DEPTH) {
      throw new RangeError(`logic: depth must be an integer from ${MIN_DEPTH} to ${MAX_DEPTH}, got ${difficulty}`);
    }
    const { data, steps } = generateTheory(seed, difficulty);
    return {
      id: `logic-d${difficulty}-${(seed >>> 0).toString(16)}`,
      domain: 'logic',
      difficulty,
      prompt: renderPrompt(data),
      goldSteps: steps,
      goldAnswer: data.label,
      data,
    };
  },
  goldCompletion(problem: Problem<LogicData>): string {
    return formatCompletion(problem.goldSteps, problem.goldAnswer);
  },
  verify: verifyLogic,
};
