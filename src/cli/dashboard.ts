import type { Command } from 'commander';
import { UserError } from './errors.js';

// Placeholder until the dashboard lands.
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('serve a local web page over run directories')
    .argument('<dirs...>', 'run directories')
    .action(() => {
      throw new UserError('dashboard: not implemented yet');
    });
}
