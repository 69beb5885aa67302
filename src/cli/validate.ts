/** `ceiling validate`: check a plan against a PDDL problem. Prints one JSON line
 * `{"valid", "failingStep", "reason"}`; exit 0 valid, 1 invalid, 2 unreadable or malformed input. */
import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { getDomain } from '../domains/index.js';
import { PddlError, compile, parseProblem, validatePlan } from '../domains/blocksworld/index.js';
import { UserError } from './errors.js';

/** Larger inputs are refused rather than read whole into memory. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function readText(path: string, flag: string): string {
  const name = oneLine(path);
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UserError(`${flag} '${name}' is a directory, not a file`);
    if (st.size > MAX_FILE_BYTES) throw new UserError(`${flag} '${name}' is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : oneLine(err instanceof Error ? err.message : String(err));
    throw new UserError(`cannot read ${flag} file '${name}': ${why}`);
  }
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'validate a plan against a PDDL problem: prints {"valid", "failingStep", "reason"} as one JSON line; ' +
        'exit 0 valid, 1 invalid, 2 unreadable or malformed input',
    )
    .requiredOption('--domain <name>', 'blocksworld (the only domain with PDDL plans)')
    .requiredOption('--problem <file>', 'PDDL problem file (4-operator Blocksworld)')
    .requiredOption('--plan <file>', 'plan: actions like (unstack b a), one or more per line; "0: (unstack b a) [1]" and ; comments accepted')
    .action((opts: { domain: string; problem: string; plan: string }) => {
      const domain = getDomain(opts.domain);
      if (domain.name !== 'blocksworld') throw new UserError(`validate: domain '${domain.name}' has no plan validator (only blocksworld)`);
      const problemText = readText(opts.problem, '--problem');
      const planText = readText(opts.plan, '--plan');
      let task;
      try {
        task = parseProblem(problemText).task;
      } catch (err) {
        if (err instanceof PddlError) throw new UserError(`malformed PDDL in '${oneLine(opts.problem)}': ${oneLine(err.message)}`);
        throw err;
      }
      const check = validatePlan(compile(task), planText);
      process.stdout.write(JSON.stringify({ valid: check.valid, failingStep: check.failingStep, reason: check.reason }) + '\n');
      process.exitCode = check.valid ? 0 : 1;
    });
}
