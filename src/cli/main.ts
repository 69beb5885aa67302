/** The `ceiling` command line. Every command has --help; user errors are one line on stderr, exit 2. */
import { Command, CommanderError } from 'commander';
import { UserError } from './errors.js';
import { registerCommands } from './commands.js';

export function buildProgram(): Command {
  const program = new Command('ceiling')
    .description('Self-improving reasoning that learns where its ability ends (Auto-CEI).')
    .version('0.1.0')
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => {} })
    .exitOverride();
  registerCommands(program);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ outputError: () => {} });
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests and embedders can call it. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      if (err.exitCode === 0) return 0;
      process.stderr.write(`ceiling: ${err.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`ceiling: ${err.message}\n`);
      return err.exitCode;
    }
    const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`ceiling: internal error: ${msg}\n`);
    return 1;
  }
}
