/** `ceiling run`: one method on one domain, as a resumable run directory. */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getDomain } from '../domains/index.js';
import { METHODS, PRESETS, resolveConfig, validateConfig, type Method, type Preset, type RunConfig } from '../loop/config.js';
import { createProgress, type Progress } from '../loop/progress.js';
import { runMethod } from '../loop/run.js';
import { createEmbeddedEngine } from '../policies/embedded.js';
import { createRemoteEngine, parseRemoteConfig } from '../policies/remote.js';
import { writeReport, type RunReport } from '../report/report.js';
import { RunStore } from '../store/run-store.js';
import { acquireRunLock } from '../store/run-lock.js';
import { writeFileAtomic } from '../util/atomic.js';
import { parseInteger } from './args.js';
import { UserError } from './errors.js';

export interface RunFlags {
  domain?: string;
  method?: string;
  preset: string;
  config?: string;
  out?: string;
  seed?: number;
  resume?: boolean;
  quiet?: boolean;
  remote?: string;
  reuse?: string[];
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export function checkPreset(preset: string): Preset {
  if (!(PRESETS as readonly string[]).includes(preset)) throw new UserError(`--preset must be one of ${PRESETS.join(', ')}, got '${preset}'`);
  return preset as Preset;
}

export function checkMethod(method: string): Method {
  if (!(METHODS as readonly string[]).includes(method)) throw new UserError(`--method must be one of ${METHODS.join(', ')}, got '${method}'`);
  return method as Method;
}

/** The config for a new run: preset ← config file ← flags. */
export function configFromFlags(flags: RunFlags): RunConfig {
  const preset = checkPreset(flags.preset);
  const file = flags.config ? readJson(flags.config, 'config file') : {};
  const fromFlags: Record<string, unknown> = {};
  if (flags.domain !== undefined) fromFlags.domain = getDomain(flags.domain).name;
  if (flags.method !== undefined) fromFlags.method = checkMethod(flags.method);
  if (flags.seed !== undefined) fromFlags.seed = flags.seed;
  try {
    return resolveConfig(preset, file, fromFlags);
  } catch (err) {
    if (err instanceof UserError && flags.config) throw new UserError(err.message.replace(/^config:/, `${flags.config}:`));
    throw err;
  }
}

/** The remote setup of `--remote FILE` (validated now, so a bad file fails before any work). */
export function remoteFromFlags(flags: RunFlags): unknown {
  if (!flags.remote) return undefined;
  const value = readJson(flags.remote, 'remote config');
  parseRemoteConfig(value, flags.remote);
  return value;
}

/** Runs (or resumes) one method in `dir` and writes its report. `remote` (the JSON of a remote
 * setup, see docs/real-llms.md) replaces the embedded model; it is kept in the run directory as
 * remote.json so that --resume uses it again. */
/** `initFrom`: finished runs whose initial models may be copied (embedded runs only: a remote
 * trainer's adapters live on its server). */
export async function runInDir(dir: string, config: RunConfig, resume: boolean, progress: Progress, remote?: unknown, initFrom?: readonly string[]): Promise<RunReport> {
  const configFile = join(dir, 'config.json');
  const remoteFile = join(dir, 'remote.json');
  if (existsSync(configFile) && !resume) throw new UserError(`${dir} already holds a run; pass --resume to continue it, or choose another --out`);
  mkdirSync(dir, { recursive: true });
  const release = acquireRunLock(dir);
  try {
    return await runLocked(dir, configFile, remoteFile, config, progress, remote, initFrom);
  } finally {
    release();
  }
}

async function runLocked(dir: string, configFile: string, remoteFile: string, config: RunConfig, progress: Progress, remote: unknown, initFrom?: readonly string[]): Promise<RunReport> {
  if (existsSync(configFile)) {
    config = validateConfig(readJson(configFile, 'run config'), configFile);
    remote = existsSync(remoteFile) ? readJson(remoteFile, 'remote config') : undefined;
  } else {
    if (remote !== undefined) await writeFileAtomic(remoteFile, JSON.stringify(remote, null, 2) + '\n');
    await writeFileAtomic(configFile, JSON.stringify(config, null, 2) + '\n');
  }
  const domain = getDomain(config.domain);
  const engine = remote === undefined ? createEmbeddedEngine(config) : createRemoteEngine(parseRemoteConfig(remote, remoteFile));
  const store = RunStore.open(join(dir, 'run.db'));
  try {
    progress.log(`run ${dir}: ${config.method} on ${config.domain} (${engine.describe})`);
    await runMethod(dir, config, store, {
      domain, trainer: engine.trainer, openPolicy: engine.openPolicy, progress, ...(remote === undefined && initFrom !== undefined ? { initFrom } : {}),
    });
    const report = await writeReport(dir, config, store);
    progress.log(`report: ${join(dir, 'report.md')}`);
    return report;
  } finally {
    store.close();
    await engine.close();
  }
}

/** The `--reuse` directories, resolved; each must be a run directory. */
export function reuseDirs(flags: RunFlags): string[] {
  const dirs = (flags.reuse ?? []).map((d) => resolve(d));
  for (const d of dirs) if (!existsSync(join(d, 'run.db'))) throw new UserError(`--reuse ${d}: not a run directory (no run.db)`);
  return dirs;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a method (default Auto-CEI) on a domain with the embedded model; resumable')
    .option('--domain <name>', 'blocksworld | logic | arithmetic | countdown (default: the preset\'s, countdown for demo; a preset takes its sizes for the domain)')
    .option('--method <name>', `${METHODS.join(' | ')} (default autocei)`)
    .option('--preset <name>', `${PRESETS.join(' | ')}`, 'demo')
    .option('--config <file>', 'JSON file with config fields overriding the preset (see README)')
    .option('--seed <n>', 'random seed', parseInteger('--seed', 0, 2 ** 32 - 1))
    .option('--out <dir>', 'run directory (default runs/<domain>-<method>-<preset>)')
    .option('--resume', 'continue the run in --out where it stopped')
    .option('--quiet', 'no progress bars, one line per finished step')
    .option('--remote <file>', 'JSON remote setup: sample through an OpenAI-compatible server, train with a command (docs/real-llms.md)')
    .option('--reuse <dirs...>', 'finished runs (embedded) whose identical work this run copies instead of redoing: SFT, R-Tuning and EI rounds computed with the same settings')
    .action(async (flags: RunFlags) => {
      const config = configFromFlags(flags);
      const remote = remoteFromFlags(flags);
      const reuse = reuseDirs(flags);
      const dir = resolve(flags.out ?? join('runs', `${config.domain}-${config.method}-${flags.preset}`));
      const report = await runInDir(dir, config, flags.resume === true, createProgress({ quiet: flags.quiet }), remote, reuse);
      if (report.test) {
        const t = report.test.overall;
        process.stdout.write(JSON.stringify({ dir, selected: report.selected, accuracy: t.accuracy, precision: t.precision, idkRate: t.idkRate, f: t.f }) + '\n');
      }
    });
}
