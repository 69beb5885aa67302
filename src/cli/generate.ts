/** `ceiling generate`: print generated problems as JSONL (one problem per line, gold included). */
import type { Command } from 'commander';
import { getDomain, problemSeed } from '../domains/index.js';
import { parseInteger } from './args.js';
import { UserError } from './errors.js';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('print generated problems with their gold solutions as JSONL')
    .requiredOption('--domain <name>', 'blocksworld | logic | arithmetic | countdown')
    .option('--difficulty <n>', 'difficulty knob value (default: the domain minimum)', parseInteger('--difficulty'))
    .option('--count <n>', 'number of problems', parseInteger('--count', 1, 1_000_000), 10)
    .option('--seed <n>', 'random seed', parseInteger('--seed', 0, 2 ** 32 - 1), 0)
    .action((opts: { domain: string; difficulty?: number; count: number; seed: number }) => {
      const domain = getDomain(opts.domain);
      const { min, max, name } = domain.difficulty;
      const difficulty = opts.difficulty ?? min;
      if (difficulty < min || difficulty > max) {
        throw new UserError(`--difficulty (${name}) for ${domain.name} must be between ${min} and ${max}, got ${difficulty}`);
      }
      for (let i = 0; i < opts.count; i++) {
        const problem = domain.generate(problemSeed(opts.seed, i), difficulty);
        process.stdout.write(JSON.stringify({ ...problem, completion: domain.goldCompletion(problem) }) + '\n');
      }
    });
}
