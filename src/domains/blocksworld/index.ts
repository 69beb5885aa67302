/** Blocksworld planning (PlanBench's 4-operator domain: pick-up, put-down, stack, unstack).
 * Difficulty = number of blocks; gold plans are optimal. */
import type { Domain } from '../types.js';
import { formatCompletion } from '../response.js';
import { createRng } from '../../util/random.js';
import type { BlocksworldData } from './format.js';
import { randomTask } from './generate.js';
import { DOMAIN_NAME, problemFromTask, verifyPlan } from './problem.js';

/** Largest generated size. Optimal search stays fast up to here (measured: about 3 ms per problem
 * on average at 10 blocks, 150 ms at worst over 1,000 problems; 0.3 ms at 8 blocks), and a
 * 10-block prompt with its plan already fills a small model's context. */
export const MAX_BLOCKS = 10;

/** Random tasks whose optimal search exceeds the budget are replaced by the next random task, so
 * `generate` never fails (not observed up to MAX_BLOCKS). */
const MAX_ATTEMPTS = 100;

export const blocksworld: Domain<BlocksworldData> = {
  name: DOMAIN_NAME,
  description: 'Blocksworld planning (pick-up, put-down, stack, unstack); optimal gold plans',
  difficulty: { name: 'blocks', min: 2, max: MAX_BLOCKS },
  words: ['(unstack ', '(stack ', '(pick-up ', '(put-down ', ')\n', 'init: ', 'goal: ', 'plan:\n', '(on ', ' | ', ' ; '],
  generate(seed, difficulty) {
    if (!Number.isInteger(difficulty) || difficulty < 2 || difficulty > MAX_BLOCKS) {
      throw new Error(`blocksworld: difficulty (blocks) must be an integer in 2..${MAX_BLOCKS}, got ${difficulty}`);
    }
    const rng = createRng(seed);
    const id = `blocksworld-${difficulty}-${seed >>> 0}`;
    for (let attempt = 1; ; attempt++) {
      const task = randomTask(rng, difficulty);
      try {
        return problemFromTask(task, id);
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS) throw err;
      }
    }
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
export { randomTask } from './generate.js';
