/** Blocksworld planning (PlanBench's 4-operator domain: pick-up, put-down, stack, unstack).
 * Difficulty = number of blocks; gold plans follow the unstack-stack strategy (unstack-stack.ts). */
import type { Domain } from '../types.js';
import { formatCompletion } from '../response.js';
import { createRng } from '../../util/random.js';
import type { BlocksworldData } from './format.js';
import { randomTask } from './generate.js';
import { DOMAIN_NAME, problemFromTask, verifyPlan } from './problem.js';

/** Largest generated size: a 10-block prompt with its plan already fills a small model's context. */
export const MAX_BLOCKS = 10;

export const blocksworld: Domain<BlocksworldData> = {
  name: DOMAIN_NAME,
  description: 'Blocksworld planning (pick-up, put-down, stack, unstack); gold plans: everything to the table, then the goal towers bottom-up',
  difficulty: { name: 'blocks', min: 2, max: MAX_BLOCKS },
  words: ['(unstack ', '(stack ', '(pick-up ', '(put-down ', ')\n', 'init: ', 'goal: ', 'plan:\n', '(on ', ' | ', ' ; '],
  generate(seed, difficulty) {
    if (!Number.isInteger(difficulty) || difficulty < 2 || difficulty > MAX_BLOCKS) {
      throw new Error(`blocksworld: difficulty (blocks) must be an integer in 2..${MAX_BLOCKS}, got ${difficulty}`);
    }
    return problemFromTask(randomTask(createRng(seed), difficulty), `blocksworld-${difficulty}-${seed >>> 0}`);
  },
  goldCompletion(problem) {
    return formatCompletion(problem.goldSteps, null);
  },
  verify: verifyPlan,
};

export type { BlocksworldData } from './format.js';
export { problemFromPddl, problemFromPddlFile, problemFromTask, compiledTask, annotatedSteps } from './problem.js';
export { parseProblem, toPddl, PddlError } from './pddl.js';
export { compile, validatePlan, validateSteps, MAX_PLAN_STEPS, type PlanCheck, type CompiledTask } from './validate.js';
export { solveOptimal } from './solve.js';
export { unstackStackPlan } from './unstack-stack.js';
export { randomTask } from './generate.js';
