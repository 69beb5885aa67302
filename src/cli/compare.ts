/** `ceiling compare`: every method with the same seed and problems, one table and plots. */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { METHODS, type Method } from '../loop/config.js';
import { createProgress } from '../loop/progress.js';
import { writeCompare, type CompareEntry } from '../report/compare.js';
import { parseInteger } from './args.js';
import { checkMethod, configFromFlags, remoteFromFlags, reuseDirs, runInDir, type RunFlags } from './run.js';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('run sft, rtuning, ei, fixed-c1 and autocei on the same problems and compare them')
    .option('--domain <name>', 'blocksworld | logic | arithmetic | countdown')
    .option('--preset <name>', 'demo | small | full', 'small')
    .option('--config <file>', 'JSON file with config fields overriding the preset')
    .option('--methods <list>', 'comma-separated subset of methods', METHODS.join(','))
    .option('--seed <n>', 'random seed', parseInteger('--seed', 0, 2 ** 32 - 1))
    .option('--out <dir>', 'output directory (one run directory per method inside)')
    .option('--resume', 'continue the runs in --out where they stopped')
    .option('--quiet', 'no progress bars')
    .option('--remote <file>', 'JSON remote setup (see `ceiling run --help`)')
    .option('--reuse <dirs...>', 'finished runs (embedded) whose identical work the methods copy instead of redoing (see `ceiling run --help`)')
    .action(async (flags: RunFlags & { methods: string }) => {
      const methods: Method[] = flags.methods.split(',').map((m) => checkMethod(m.trim()));
      const base = configFromFlags(flags);
      const remote = remoteFromFlags(flags);
      const dir = resolve(flags.out ?? join('runs', `compare-${base.domain}-${flags.preset}`));
      const progress = createProgress({ quiet: flags.quiet });
      const entries: CompareEntry[] = [];
      // Each method copies the initial models (SFT, R-Tuning) an earlier one trained the same way.
      const initFrom: string[] = reuseDirs(flags);
      for (const method of methods) {
        const runDir = join(dir, method);
        const report = await runInDir(runDir, { ...base, method }, flags.resume === true, progress, remote, initFrom);
        entries.push({ method, report });
        initFrom.push(runDir);
      }
      await writeCompare(dir, entries);
      progress.log(`comparison: ${join(dir, 'compare.md')}`);
    });
}
