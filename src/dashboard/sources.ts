/** What the directories given on the command line hold, looked at afresh on every request: a
 * compare run creates its method directories one after another, and a run creates its database
 * a moment after its directory. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** `ok`: a run database to read; the others explain why there is nothing to show (yet). */
export type RunStatus = 'ok' | 'empty' | 'not-a-run' | 'missing' | 'damaged' | 'busy';

export interface RunEntry {
  /** Stable across requests: the argument's position, plus the subdirectory for compare runs. */
  id: string;
  name: string;
  dir: string;
  /** The compare directory this run belongs to, if any. */
  group: string | null;
  /** Whether a database file exists; `status` is decided by reading it. */
  hasDb: boolean;
  /** Set when the directory itself explains the problem (no database to read). */
  problem: { status: Exclude<RunStatus, 'ok' | 'damaged' | 'busy'>; message: string } | null;
}

export const DB_FILE = 'run.db';
const CONFIG_FILE = 'config.json';

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const looksLikeRun = (dir: string): boolean => existsSync(join(dir, DB_FILE)) || existsSync(join(dir, CONFIG_FILE));

/** Subdirectories that are runs, in the order compare.json lists its methods, then by name. */
function runSubdirs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
  const runs = names.filter((n) => looksLikeRun(join(dir, n))).sort();
  const listed = compareOrder(dir);
  const rank = (n: string) => (listed.includes(n) ? listed.indexOf(n) : listed.length);
  return runs.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function compareOrder(dir: string): string[] {
  try {
    const json = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')) as unknown;
    // { methods: [...] }; compare directories written before the paired table hold the bare list.
    const methods = Array.isArray(json) ? json : (json as { methods?: unknown } | null)?.methods;
    return Array.isArray(methods) ? methods.map((e) => String((e as { method?: unknown }).method ?? '')) : [];
  } catch {
    return [];
  }
}

function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.')).length === 0;
  } catch {
    return false;
  }
}

function runEntry(id: string, dir: string, group: string | null): RunEntry {
  const hasDb = existsSync(join(dir, DB_FILE));
  return {
    id, name: basename(dir), dir, group, hasDb,
    problem: hasDb ? null : { status: 'empty', message: `${dir}: the run has started but has no ${DB_FILE} yet` },
  };
}

/** The runs under the given directories (a run directory, or a compare directory of runs). */
export function listRuns(dirs: readonly string[]): RunEntry[] {
  const entries: RunEntry[] = [];
  dirs.forEach((dir, i) => {
    const id = String(i);
    const problem = (status: Exclude<RunStatus, 'ok' | 'damaged' | 'busy'>, message: string) =>
      entries.push({ id, name: basename(dir) || dir, dir, group: null, hasDb: false, problem: { status, message } });
    if (!existsSync(dir)) return problem('missing', `${dir} does not exist`);
    if (!isDir(dir)) return problem('not-a-run', `${dir} is a file, not a run directory (pass the directory that holds ${DB_FILE})`);
    if (looksLikeRun(dir)) return entries.push(runEntry(id, dir, null));
    const subdirs = runSubdirs(dir);
    if (subdirs.length > 0) {
      for (const sub of subdirs) entries.push(runEntry(`${id}/${sub}`, join(dir, sub), basename(dir)));
      return;
    }
    if (isEmptyDir(dir)) return problem('empty', `${dir} is empty: no ${DB_FILE} yet (it shows up here once a run starts writing)`);
    return problem('not-a-run', `${dir} is not a run: it holds no ${DB_FILE}, no ${CONFIG_FILE} and no run directories`);
  });
  return entries;
}

/** The run's config.json, if readable; the dashboard shows it as it is. */
export function readConfig(dir: string): Record<string, unknown> | null {
  try {
    const json = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as unknown;
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
