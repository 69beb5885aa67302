import type { Command } from 'commander';
import { UserError } from './errors.js';

// Placeholder until the Blocksworld validator lands.
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate a plan against a PDDL problem')
    .requiredOption('--domain <name>', 'blocksworld')
    .requiredOption('--problem <file>', 'PDDL problem file')
    .requiredOption('--plan <file>', 'plan file')
    .action(() => {
      throw new UserError('validate: not implemented yet');
    });
}
