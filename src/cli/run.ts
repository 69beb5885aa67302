/** `ceiling run`: one Auto-CEI run. The expert-iteration loop is not built yet; until it is, the
 * command states what it will do and exits 2. */
import type { Command } from 'commander';
import { UserError } from './errors.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run Auto-CEI (R-Tuning init, one EI round, curriculum stages) on a domain')
    .option('--domain <name>', 'domain to train on', 'blocksworld')
    .option('--method <name>', 'sft | rtuning | ei | fixed-c1 | autocei', 'autocei')
    .option('--preset <name>', 'demo | small | full', 'demo')
    .option('--out <dir>', 'run directory', 'runs/demo')
    .action((opts: { domain: string; method: string; preset: string; out: string }) => {
      throw new UserError(
        `run: the expert-iteration loop is not available yet; it will train the embedded model on ` +
          `${opts.domain} with method ${opts.method} (preset ${opts.preset}) into ${opts.out}`,
      );
    });
}
