/** A trainer that hands the round's training set to an external command (TRL, axolotl, a custom
 * script, or `ceiling train-sft`).
 *
 * The command is a template, run WITHOUT a shell: the template is split into words first (POSIX
 * style: whitespace separates, '…' is literal, "…" allows \" \\ \$ \` escapes, \x escapes outside
 * quotes), then placeholders are replaced inside each word. A substituted value is never split
 * again or interpreted, so paths with spaces or quotes are safe. Pipelines or `&&` need an
 * explicit `sh -c 'script' _ {data} {out}` with the values passed as positional arguments ($1, $2),
 * never pasted into the script text.
 *
 * Placeholders: {data} (prompt/completion JSONL), {data_messages} (messages JSONL), {base} (the
 * checkpoint to start from, or the base model when training from scratch), {base_model}, {out}
 * (directory the command must create), {epochs}, {lr}, {batch_size}, {seed}, {examples}, {steps}
 * (⌈epochs·⌈examples/batch_size⌉⌉), {name} (the model name the result will be served under).
 * `{{` and `}}` stand for literal braces.
 *
 * The command writes into a temporary sibling of the round's directory, renamed into place only
 * after it exits 0 with a non-empty output, so a failed or killed run never leaves a half-written
 * checkpoint. Its stdout and stderr go line by line to a log file (and to `onLog`); progress lines
 * are recognised to report steps and loss: JSON `{"step","total_steps","loss"}` (ceiling
 * train-sft) and the Hugging Face Trainer's `{'loss': …}` dicts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { writeFileAtomic } from '../util/atomic.js';
import { exportTrainingSet } from './export.js';
import type { Trainer, TrainRequest, TrainResult } from './types.js';

export const PLACEHOLDERS = ['data', 'data_messages', 'base', 'base_model', 'out', 'epochs', 'lr', 'batch_size', 'seed', 'examples', 'steps', 'name'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export class CommandTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandTemplateError';
  }
}

/** Splits a command line into words the way a POSIX shell would, without expanding anything. */
export function splitCommand(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === "'") {
      const end = template.indexOf("'", i + 1);
      if (end < 0) throw new CommandTemplateError(`unterminated ' in command: ${template}`);
      word += template.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= template.length) throw new CommandTemplateError(`unterminated " in command: ${template}`);
        const d = template[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < template.length && '"\\$`\n'.includes(template[i + 1]!)) {
          if (template[i + 1] !== '\n') word += template[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
    } else if (c === '\\') {
      if (i + 1 < template.length) {
        if (template[i + 1] !== '\n') {
          word += template[i + 1];
          inWord = true;
        }
        i += 2;
      } else {
        i++;
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new CommandTemplateError('the training command is empty');
  return words;
}

/** Checks every `{name}` in the words is a known placeholder. */
export function checkPlaceholders(words: readonly string[]): void {
  for (const w of words) {
    for (const m of w.replace(/\{\{|\}\}/g, '').matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
      if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
        throw new CommandTemplateError(`unknown placeholder {${m[1]}} in the training command (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`);
      }
    }
  }
}

/** Replaces placeholders inside each word; values are inserted verbatim. */
export function expandCommand(words: readonly string[], values: Readonly<Record<Placeholder, string>>): string[] {
  return words.map((w) => w.replace(/\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (all, name: string | undefined) => {
    if (all === '{{') return '{';
    if (all === '}}') return '}';
    return (values as Record<string, string>)[name!] ?? all;
  }));
}

export interface ProgressLine {
  step?: number;
  totalSteps?: number;
  loss?: number;
}

/** Steps and loss from one output line, when it is a progress line. */
export function parseProgressLine(line: string): ProgressLine | null {
  const t = line.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      const j = JSON.parse(t) as Record<string, unknown>;
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      const out: ProgressLine = { step: num(j.step), totalSteps: num(j.total_steps), loss: num(j.loss) };
      if (out.step !== undefined || out.loss !== undefined) return out;
    } catch {
      // Not JSON: maybe a Python dict below.
    }
    // Hugging Face Trainer logs: {'loss': 1.234, 'grad_norm': …, 'epoch': 0.5}
    const m = /'loss':\s*([-+0-9.eE]+|nan|inf)/.exec(t);
    if (m) {
      const loss = Number(m[1]);
      return Number.isFinite(loss) ? { loss } : null;
    }
  }
  return null;
}

export interface CommandTrainerOptions {
  /** The command template (a string split as described above, or the words already split). */
  command: string | readonly string[];
  /** Base model id or path: {base} when training from scratch, and always {base_model}. */
  baseModel: string;
  cwd?: string;
  /** Added to the environment of the command. */
  env?: Record<string, string>;
  /** Where the JSONL files go (default: `<run dir>/train-data`). */
  dataDir?: string;
  /** Where the logs go (default: `<run dir>/logs`). */
  logDir?: string;
  /** Kill the command after this long (default: no limit). */
  timeoutMs?: number;
  /** Every output line, as it arrives. */
  onLog?: (line: string) => void;
  /** The model name the checkpoint will be served under ({name}); default `ceiling-<round>-<random>`. */
  nameFor?: (outDir: string) => string;
  /** Runs once the checkpoint is in place, e.g. to load it into a server; a failure fails the round. */
  afterTrain?: (checkpoint: string, name: string) => Promise<void>;
}

export interface CommandTrainer extends Trainer {
  /** The argv of the last run (for logs and tests). */
  readonly lastArgv: readonly string[] | null;
  /** Stops a running command. */
  close(): Promise<void>;
}

/** A file written next to the checkpoint: the name it is served under. */
export const SERVED_NAME_FILE = 'ceiling-served.json';

export function servedNameOf(checkpoint: string): string | null {
  try {
    const j = JSON.parse(readFileSync(join(checkpoint, SERVED_NAME_FILE), 'utf8')) as { name?: unknown };
    return typeof j.name === 'string' && j.name !== '' ? j.name : null;
  } catch {
    return null;
  }
}

/** The run directory of a round's checkpoint (`<run>/checkpoints/<round>` → `<run>`). */
export function runDirOf(outDir: string): string {
  const parent = dirname(resolve(outDir));
  return basename(parent) === 'checkpoints' ? dirname(parent) : parent;
}

export function defaultServedName(outDir: string): string {
  const label = basename(resolve(outDir)).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 48) || 'model';
  return `ceiling-${label}-${randomBytes(4).toString('hex')}`;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(12))));

export function createCommandTrainer(options: CommandTrainerOptions): CommandTrainer {
  const words = typeof options.command === 'string' ? splitCommand(options.command) : [...options.command];
  if (words.length === 0) throw new CommandTemplateError('the training command is empty');
  checkPlaceholders(words);
  const running = new Set<ChildProcess>();
  let lastArgv: string[] | null = null;

  const run = async (req: TrainRequest): Promise<TrainResult> => {
    const outDir = resolve(req.outDir);
    const label = basename(outDir);
    const runDir = runDirOf(outDir);
    const data = await exportTrainingSet(options.dataDir ?? join(runDir, 'train-data'), label, req.examples);
    const logDir = options.logDir ?? join(runDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, `train-${label}.log`);
    // Leftovers of earlier attempts that were killed.
    for (const f of existsSync(dirname(outDir)) ? readdirSync(dirname(outDir)) : []) {
      if (f.startsWith(`.${label}.train-`)) rmSync(join(dirname(outDir), f), { recursive: true, force: true });
    }
    mkdirSync(dirname(outDir), { recursive: true });
    const tmp = join(dirname(outDir), `.${label}.train-${process.pid}-${randomBytes(4).toString('hex')}`);
    const name = (options.nameFor ?? defaultServedName)(outDir);
    const steps = Math.max(1, Math.ceil(req.epochs * Math.ceil(req.examples.length / req.batchSize)));
    const argv = expandCommand(words, {
      data: data.promptCompletion, data_messages: data.messages, base: req.base ?? options.baseModel, base_model: options.baseModel,
      out: tmp, epochs: fmt(req.epochs), lr: fmt(req.lr), batch_size: String(req.batchSize), seed: String(req.seed),
      examples: String(req.examples.length), steps: String(steps), name,
    });
    lastArgv = argv;

    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`# ${new Date().toISOString()} ${JSON.stringify(argv)}\n`);
    const tail: string[] = [];
    const seen = { step: 0, total: steps, loss: NaN, lossLines: 0 };
    const onLine = (line: string): void => {
      log.write(line + '\n');
      tail.push(line);
      if (tail.length > 5) tail.shift();
      options.onLog?.(line);
      const p = parseProgressLine(line);
      if (!p) return;
      if (p.totalSteps !== undefined) seen.total = p.totalSteps;
      if (p.loss !== undefined) {
        seen.loss = p.loss;
        seen.lossLines++;
      }
      seen.step = p.step ?? (p.loss !== undefined ? seen.lossLines : seen.step);
      if (p.loss !== undefined && Number.isFinite(p.loss)) req.onProgress?.(seen.step, Math.max(seen.total, seen.step), p.loss);
    };

    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error; timedOut: boolean }>((done) => {
      let child: ChildProcess;
      try {
        child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        done({ code: null, signal: null, error: err as Error, timedOut: false });
        return;
      }
      running.add(child);
      let timedOut = false;
      const timer = options.timeoutMs === undefined ? null : setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }, options.timeoutMs);
      const streams = [child.stdout!, child.stderr!].map((s) => new Promise<void>((r) => {
        createInterface({ input: s, crlfDelay: Infinity }).on('line', onLine).on('close', r);
      }));
      let spawnError: Error | undefined;
      child.on('error', (err) => {
        spawnError = err;
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        running.delete(child);
        void Promise.all(streams).then(() => done({ code, signal, error: spawnError, timedOut }));
      });
    });
    await new Promise<void>((r) => log.end(r));

    const where = `(log: ${logFile})`;
    const last = tail.length > 0 ? `; last output: ${tail.slice(-3).join(' | ')}` : '';
    const fail = (msg: string): never => {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`training command ${msg} ${where}${last}`);
    };
    if (outcome.error) {
      const code = (outcome.error as NodeJS.ErrnoException).code;
      fail(code === 'ENOENT' ? `not found: '${argv[0]}'` : `could not start: ${outcome.error.message}`);
    }
    if (outcome.timedOut) fail(`timed out after ${options.timeoutMs} ms`);
    if (outcome.signal) fail(`was killed by ${outcome.signal}`);
    if (outcome.code !== 0) fail(`exited with code ${outcome.code}`);
    let isDir = false;
    try {
      isDir = statSync(tmp).isDirectory() && readdirSync(tmp).length > 0;
    } catch {
      isDir = false;
    }
    if (!isDir) fail(`exited 0 but wrote no output directory at {out} = ${tmp}`);

    await writeFileAtomic(join(tmp, SERVED_NAME_FILE), JSON.stringify({ name, trainedAt: new Date().toISOString(), argv }, null, 2) + '\n');
    // Swap into place: an older directory (a crashed earlier attempt) is moved aside first.
    let old: string | null = null;
    if (existsSync(outDir)) {
      old = join(dirname(outDir), `.${label}.old-${randomBytes(4).toString('hex')}`);
      renameSync(outDir, old);
    }
    renameSync(tmp, outDir);
    if (old) rmSync(old, { recursive: true, force: true });

    if (!Number.isFinite(seen.loss)) seen.loss = lossFromTrainerState(outDir) ?? NaN;
    await options.afterTrain?.(outDir, name);
    return { checkpoint: outDir, loss: seen.loss, steps: seen.step > 0 ? seen.step : steps };
  };

  return {
    get lastArgv() {
      return lastArgv;
    },
    train: run,
    close: async () => {
      for (const c of running) c.kill('SIGTERM');
    },
  };
}

/** The last logged loss in a Hugging Face `trainer_state.json`, when the command left one. */
function lossFromTrainerState(dir: string): number | null {
  try {
    const state = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as { log_history?: { loss?: unknown; train_loss?: unknown }[] };
    const hist = state.log_history ?? [];
    for (let i = hist.length - 1; i >= 0; i--) {
      const v = hist[i]!.loss ?? hist[i]!.train_loss;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
    }
  } catch {
    // No state file: the loss stays unknown.
  }
  return null;
}
