/** A simulated model for run-loop tests, over the counting domain: it can count up to `skill`, one
 * further per training round (up to 6); it refuses as often as its last training data did. Its
 * "checkpoint" is a model.json, so runs, resumes and copies handle it as they would a real one. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCompletion, REFUSAL } from '../../src/domains/response.js';
import type { Example, Policy, Trainer } from '../../src/policies/types.js';
import { createRng } from '../../src/util/random.js';

export interface SimModel { skill: number; refuse: number; trainedPrompts: string[] }

export const readSimModel = (dir: string): SimModel => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));

/** Records every round it trains (`calls`) and every prompt a model has seen; throws when asked to
 * train the round directory ending in `failAt` (a crash mid-run); reports `progressSteps` losses. */
export function simTrainer(opts: { failAt?: string; progressSteps?: number } = {}): Trainer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async train({ examples, base, outDir, onProgress }) {
      calls.push(outDir);
      if (opts.failAt && outDir.endsWith(opts.failAt)) throw new Error('simulated crash');
      const prev: SimModel = base ? readSimModel(base) : { skill: 2, refuse: 0, trainedPrompts: [] };
      const refuse = examples.filter((e: Example) => e.completion.includes('Sorry')).length / examples.length;
      const model: SimModel = { skill: Math.min(prev.skill + 1, 6), refuse, trainedPrompts: [...new Set([...prev.trainedPrompts, ...examples.map((e) => e.prompt)])] };
      const steps = opts.progressSteps ?? examples.length;
      if (opts.progressSteps) for (let s = 1; s <= steps; s++) onProgress?.(s, steps, 2 / (1 + s) + 0.05 * refuse);
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, 'model.json'), JSON.stringify(model));
      return { checkpoint: outDir, loss: 1 / (1 + examples.length), steps };
    },
  };
}

/** Samples the model in `dir`: a refusal (after a random number of steps) with its refusal rate at
 * temperature > 0 and `greedyRefusal` times that rate greedily; otherwise counts, one short of
 * targets beyond its skill. */
export function simPolicy(greedyRefusal = 0): (dir: string) => Promise<Policy> {
  return async (dir) => {
    const model = readSimModel(dir);
    return {
      name: dir,
      async sample(prompts, { n, temperature, seed }) {
        const rng = createRng(seed);
        const refuse = temperature > 0 ? model.refuse : model.refuse * greedyRefusal;
        return prompts.map((prompt) => {
          const target = Number(/count to (\d+)/.exec(prompt)![1]);
          return Array.from({ length: n }, () => {
            const steps = Array.from({ length: target }, (_, i) => String(i + 1));
            if (refuse > 0 && rng.next() < refuse) return [...steps.slice(0, rng.int(0, target)), REFUSAL].join('\n');
            if (target > model.skill) return formatCompletion(steps.slice(0, -1), String(target));
            return formatCompletion(steps, String(target));
          });
        });
      },
    };
  };
}
