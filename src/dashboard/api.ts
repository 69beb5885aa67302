/** The JSON API the page polls. Every answer is JSON; a bad request is a 4xx with
 * `{ "error": "…" }`, and a run that cannot be read is reported, never thrown. */
import { join } from 'node:path';
import type { Split } from '../store/run-store.js';
import type { VerdictKind } from '../domains/types.js';
import { readRun, readSamples, roundIdByKey, SPLITS, VERDICTS, type RunData, type SamplePage } from './queries.js';
import { SnapshotCache, type Snapshot, type SnapshotOptions } from './snapshot.js';
import { DB_FILE, listRuns, readConfig, type RunEntry, type RunStatus } from './sources.js';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

export interface RunInfo {
  id: string;
  name: string;
  dir: string;
  group: string | null;
  status: RunStatus;
  /** Why there is nothing (or only an older state) to show. */
  message: string | null;
  /** Showing an older state because the writer kept the database busy. */
  stale: boolean;
  version: string | null;
  method: string | null;
  domain: string | null;
  rounds: number;
  latest: string | null;
  finished: boolean;
}

export interface RunSummary extends RunData {
  run: RunInfo;
  config: Record<string, unknown> | null;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  /** Identity of the answer, for conditional requests. */
  etag?: string;
}

interface Loaded { snapshot: Snapshot; data: RunData }
type LoadResult = { ok: true; loaded: Loaded } | { ok: false; status: RunStatus; message: string };

/** Reads run databases through cached snapshots; one instance per server. */
export class RunReader {
  private readonly caches = new Map<string, SnapshotCache>();
  private readonly data = new Map<string, { version: string; data: RunData } | { version: string; error: string }>();
  private readonly statuses = new Map<string, RunStatus>();

  constructor(
    private readonly dirs: readonly string[],
    private readonly tmpDir: string,
    private readonly options: SnapshotOptions = {},
    private readonly onStatus?: (info: RunInfo, previous: RunStatus | null) => void,
  ) {}

  close(): void {
    for (const c of this.caches.values()) c.close();
    this.caches.clear();
  }

  entries(): RunEntry[] {
    return listRuns(this.dirs);
  }

  private cache(entry: RunEntry): SnapshotCache {
    const key = `${entry.id}\0${entry.dir}`;
    let c = this.caches.get(key);
    if (!c) {
      c = new SnapshotCache(join(entry.dir, DB_FILE), entry.dir, join(this.tmpDir, String(this.caches.size)), this.options);
      this.caches.set(key, c);
    }
    return c;
  }

  /** The run's data, or why it cannot be shown. */
  async load(entry: RunEntry): Promise<LoadResult> {
    if (entry.problem) return { ok: false, ...entry.problem };
    const db = join(entry.dir, DB_FILE);
    const result = await this.cache(entry).get();
    switch (result.kind) {
      case 'missing':
        return { ok: false, status: 'empty', message: `${entry.dir}: no ${DB_FILE} yet` };
      case 'busy':
        return { ok: false, status: 'busy', message: `${db} is being written; it will show once the writer pauses` };
      case 'damaged':
        return { ok: false, status: 'damaged', message: `${db} is damaged and cannot be read: ${result.message}` };
    }
    const { snapshot } = result;
    const key = `${entry.id}\0${entry.dir}`;
    let cached = this.data.get(key);
    if (!cached || cached.version !== snapshot.version) {
      try {
        cached = { version: snapshot.version, data: readRun(snapshot.db) };
      } catch (err) {
        cached = { version: snapshot.version, error: err instanceof Error ? err.message : String(err) };
      }
      this.data.set(key, cached);
    }
    if ('error' in cached) {
      const notRun = cached.error.startsWith('not a ceiling run database');
      return { ok: false, status: notRun ? 'not-a-run' : 'damaged', message: `${db} ${notRun ? 'is' : 'is damaged and cannot be read:'} ${cached.error}` };
    }
    return { ok: true, loaded: { snapshot, data: cached.data } };
  }

  /** What the page shows about a run; `loaded` saves reading it twice in one request. */
  async info(entry: RunEntry, loaded?: LoadResult): Promise<RunInfo> {
    const info = this.describe(entry, loaded ?? (await this.load(entry)));
    const previous = this.statuses.get(entry.id) ?? null;
    if (previous !== info.status) {
      this.statuses.set(entry.id, info.status);
      this.onStatus?.(info, previous);
    }
    return info;
  }

  private describe(entry: RunEntry, r: LoadResult): RunInfo {
    const config = readConfig(entry.dir);
    const base = {
      id: entry.id, name: entry.name, dir: entry.dir, group: entry.group,
      method: typeof config?.method === 'string' ? config.method : null,
      domain: typeof config?.domain === 'string' ? config.domain : null,
    };
    if (!r.ok) return { ...base, status: r.status, message: r.message, stale: false, version: null, rounds: 0, latest: null, finished: false };
    const { data, snapshot } = r.loaded;
    return {
      ...base, status: 'ok', message: snapshot.stale ? 'the writer is busy: showing the state before its current write' : null,
      stale: snapshot.stale, version: snapshot.version, rounds: data.rounds.length,
      latest: data.final ? 'final' : (data.rounds.at(-1)?.key ?? null), finished: data.final !== null,
    };
  }

  find(id: string): RunEntry {
    const entry = this.entries().find((e) => e.id === id);
    if (!entry) throw new HttpError(404, `no run with id '${id}'`);
    return entry;
  }

  async loaded(id: string): Promise<{ entry: RunEntry; loaded: Loaded; info: RunInfo }> {
    const entry = this.find(id);
    const r = await this.load(entry);
    const info = await this.info(entry, r);
    if (!r.ok) throw new HttpError(r.status === 'busy' ? 503 : 422, r.message, { status: r.status });
    return { entry, loaded: r.loaded, info };
  }
}

type Params = URLSearchParams;

function param(q: Params, name: string, required: true): string;
function param(q: Params, name: string, required?: false): string | undefined;
function param(q: Params, name: string, required = false): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') {
    if (required) throw new HttpError(400, `missing query parameter '${name}'`);
    return undefined;
  }
  return v;
}

function intParam(q: Params, name: string, fallback: number, min: number, max: number): number {
  const v = param(q, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpError(400, `'${name}' must be an integer from ${min} to ${max}, got '${v}'`);
  return Number(v);
}

function oneOf<T extends string>(q: Params, name: string, values: readonly T[]): T | undefined {
  const v = param(q, name);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw new HttpError(400, `'${name}' must be one of ${values.join(', ')}, got '${v}'`);
  return v as T;
}

export const MAX_PAGE = 500;

async function runsHandler(reader: RunReader): Promise<ApiResponse> {
  const runs = await Promise.all(reader.entries().map((e) => reader.info(e)));
  return { status: 200, body: { runs } };
}

async function summaryHandler(reader: RunReader, q: Params): Promise<ApiResponse> {
  const { entry, loaded, info: run } = await reader.loaded(param(q, 'run', true));
  const body: RunSummary = { run, config: readConfig(entry.dir), ...loaded.data };
  return { status: 200, body, etag: `"${loaded.snapshot.version}${run.stale ? '-stale' : ''}"` };
}

async function samplesHandler(reader: RunReader, q: Params): Promise<ApiResponse> {
  const runId = param(q, 'run', true);
  const roundKey = param(q, 'round', true);
  const split = oneOf<Split>(q, 'split', SPLITS);
  const verdict = oneOf<VerdictKind>(q, 'verdict', VERDICTS);
  const difficulty = param(q, 'difficulty') === undefined ? undefined : intParam(q, 'difficulty', 0, 0, 1_000_000);
  const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = intParam(q, 'limit', 50, 1, MAX_PAGE);
  const problem = param(q, 'problem');
  if (problem !== undefined && problem.length > 200) throw new HttpError(400, "'problem' is longer than 200 characters");
  const { loaded } = await reader.loaded(runId);
  const roundId = roundIdByKey(loaded.snapshot.db, roundKey);
  if (roundId === null) throw new HttpError(404, `no round '${roundKey}' in this run`);
  const round = [...loaded.data.rounds, ...(loaded.data.final ? [loaded.data.final] : [])].find((r) => r.id === roundId)!;
  // Default split: the expert-iteration samples (they carry rewards), else what the round evaluated.
  const chosen = split ?? (round.phase === 'final' ? 'test' : round.samples.train ? 'train' : 'val');
  const page: SamplePage = readSamples(loaded.snapshot.db, { roundId, split: chosen, verdict, difficulty, problem, offset, limit });
  return { status: 200, body: { round: roundKey, split: chosen, ...page }, etag: `"${loaded.snapshot.version}-${q.toString()}"` };
}

/** Answers one API request (`path` without the `/api/` prefix). */
export async function handleApi(reader: RunReader, method: string, path: string, q: Params): Promise<ApiResponse> {
  try {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `method ${method} not allowed: the API is read-only`);
    switch (path) {
      case 'runs':
        return await runsHandler(reader);
      case 'summary':
        return await summaryHandler(reader, q);
      case 'samples':
        return await samplesHandler(reader, q);
      default:
        throw new HttpError(404, `no API endpoint '/api/${path}'`);
    }
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, body: { error: err.message, ...err.extra } };
    // A query that fails on a copy that passed its check: report it rather than crash the server.
    return { status: 500, body: { error: err instanceof Error ? err.message : String(err) } };
  }
}
