/** Private, consistent copies of a run database for reading while a run writes it.
 *
 * The SQLite build the project uses locks a database by creating a `run.db.lock` directory, and any
 * lock (even a reader's) is exclusive: a dashboard that opened `run.db` itself could make the
 * writer's next commit fail with SQLITE_BUSY. So the dashboard never opens the writer's file. It
 * copies `run.db` (and `run.db-journal` when there is one) to a temporary directory and reads the
 * copy. A copy counts only if nothing changed while it was taken (file sizes, modification and
 * change times, the lock directory, the run directory's entries); with the journal beside it, the
 * copy is exactly what SQLite would recover after a crash at that instant, so it opens as the last
 * committed state. Copies are cached by the database file's identity and retaken only when it
 * changes, i.e. about once per finished round. */
import { constants, copyFileSync, existsSync, mkdirSync, rmSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import sqlite from 'node-sqlite3-wasm';

const { Database } = sqlite;
export type Db = InstanceType<typeof Database>;

export interface Snapshot {
  db: Db;
  /** Identity of the copied state; changes whenever the run database changes. */
  version: string;
  /** Taken from a state older than the file on disk (the writer kept it busy). */
  stale: boolean;
}

export type SnapshotResult =
  | { kind: 'ok'; snapshot: Snapshot }
  | { kind: 'missing' }
  | { kind: 'busy' }
  | { kind: 'damaged'; message: string };

interface FileState { exists: boolean; size: bigint; mtime: bigint; ctime: bigint; ino: bigint }
interface Fingerprint { db: FileState; journal: FileState; lock: boolean; dir: bigint }

const NONE: FileState = { exists: false, size: 0n, mtime: 0n, ctime: 0n, ino: 0n };

function fileState(path: string): FileState {
  let s: BigIntStats | undefined;
  try {
    s = statSync(path, { bigint: true });
  } catch {
    return NONE;
  }
  return { exists: true, size: s.size, mtime: s.mtimeNs, ctime: s.ctimeNs, ino: s.ino };
}

function fingerprint(dbPath: string, dir: string): Fingerprint {
  let dirTime = 0n;
  try {
    dirTime = statSync(dir, { bigint: true }).mtimeNs;
  } catch {
    // A vanished directory shows up as a missing database below.
  }
  return { db: fileState(dbPath), journal: fileState(`${dbPath}-journal`), lock: existsSync(`${dbPath}.lock`), dir: dirTime };
}

const sameFile = (a: FileState, b: FileState): boolean =>
  a.exists === b.exists && a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.ino === b.ino;

const sameFingerprint = (a: Fingerprint, b: Fingerprint): boolean =>
  sameFile(a.db, b.db) && sameFile(a.journal, b.journal) && a.lock === b.lock && a.dir === b.dir;

const versionOf = (f: Fingerprint): string => `${f.db.ino}-${f.db.size}-${f.db.mtime}-${f.db.ctime}`;

/** Nanoseconds since the last write to any of the files a writer touches. */
function quietFor(f: Fingerprint, nowNs: bigint): bigint {
  const last = [f.db.mtime, f.db.ctime, f.journal.mtime, f.dir].reduce((a, b) => (b > a ? b : a), 0n);
  return nowNs - last;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** File times tick coarsely (milliseconds on common file systems): a write in the same tick as a
 * previous one may leave the time unchanged, so a copy is only taken once the files have been
 * quiet for longer than a tick. While the writer holds its lock the files must have been quiet for
 * much longer, so a writer between two page writes is never mistaken for a paused one. */
const QUIET_NS = 30_000_000n;
const QUIET_LOCKED_NS = 2_000_000_000n;
const DAMAGED_RECHECK_MS = 10_000;

export interface SnapshotOptions {
  /** How long to wait for a quiet moment before falling back to the previous copy. */
  waitMs?: number;
}

/** The snapshots of one run database, refreshed on demand. */
export class SnapshotCache {
  private current: { snapshot: Snapshot; files: string[] } | null = null;
  /** A copy that failed its check; believed until the file changes or `DAMAGED_RECHECK_MS` pass. */
  private damaged: { version: string; message: string; until: number } | null = null;
  private pending: Promise<SnapshotResult> | null = null;
  private seq = 0;
  /** After a wait that ended on the old copy, the next requests get it at once for a while. */
  private noWaitUntil = 0;

  constructor(
    private readonly dbPath: string,
    private readonly runDir: string,
    private readonly tmpDir: string,
    private readonly options: SnapshotOptions = {},
  ) {}

  /** The latest consistent copy. Concurrent callers share one refresh. */
  get(): Promise<SnapshotResult> {
    this.pending ??= this.refresh().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  close(): void {
    this.drop();
  }

  private drop(): void {
    if (!this.current) return;
    try {
      this.current.snapshot.db.close();
    } catch {
      // Closing a copy that failed half-way is not worth reporting.
    }
    for (const f of this.current.files) rmSync(f, { recursive: true, force: true });
    this.current = null;
  }

  private async refresh(): Promise<SnapshotResult> {
    const now = Date.now();
    const deadline = now < this.noWaitUntil ? now : now + (this.options.waitMs ?? 3000);
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      const before = fingerprint(this.dbPath, this.runDir);
      if (!before.db.exists) {
        this.drop();
        return { kind: 'missing' };
      }
      const version = versionOf(before);
      if (this.current && this.current.snapshot.version === version) {
        this.current.snapshot.stale = false;
        return { kind: 'ok', snapshot: this.current.snapshot };
      }
      if (this.damaged && this.damaged.version === version && Date.now() < this.damaged.until) return { kind: 'damaged', message: this.damaged.message };
      const quiet = quietFor(before, nowNs());
      if (quiet >= (before.lock ? QUIET_LOCKED_NS : QUIET_NS)) {
        const taken = this.copy(before);
        if (taken) {
          const opened = this.open(taken, version);
          // A copy that raced a write unnoticed would look damaged too: conclude only on the second.
          if (opened.kind === 'ok' || ++failures >= 2) {
            if (opened.kind === 'damaged') {
              this.drop();
              this.damaged = { version, message: opened.message, until: Date.now() + DAMAGED_RECHECK_MS };
            }
            return opened;
          }
        }
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(25 * 2 ** Math.min(attempt, 4), 250));
    }
    if (this.current) {
      this.noWaitUntil = Date.now() + 1000;
      this.current.snapshot.stale = true;
      return { kind: 'ok', snapshot: this.current.snapshot };
    }
    return { kind: 'busy' };
  }

  /** Copies the database (and a journal, if any); null if anything changed meanwhile. */
  private copy(before: Fingerprint): string[] | null {
    mkdirSync(this.tmpDir, { recursive: true });
    const target = join(this.tmpDir, `snapshot-${++this.seq}.db`);
    const files = [target, `${target}-journal`, `${target}.lock`];
    try {
      copyFileSync(this.dbPath, target, constants.COPYFILE_FICLONE);
      if (before.journal.exists) copyFileSync(`${this.dbPath}-journal`, `${target}-journal`, constants.COPYFILE_FICLONE);
    } catch {
      files.forEach((f) => rmSync(f, { recursive: true, force: true }));
      return null;
    }
    if (!sameFingerprint(before, fingerprint(this.dbPath, this.runDir))) {
      files.forEach((f) => rmSync(f, { recursive: true, force: true }));
      return null;
    }
    return files;
  }

  /** Opens a fresh copy (rolling back a copied journal) and checks it is a readable database. */
  private open(files: string[], version: string): SnapshotResult {
    let db: Db | null = null;
    try {
      db = new Database(files[0]!);
      const check = db.all('PRAGMA quick_check') as { quick_check: string }[];
      const problems = check.map((r) => r.quick_check).filter((m) => m !== 'ok');
      if (problems.length > 0) throw new Error(problems.slice(0, 3).join('; '));
    } catch (err) {
      try {
        db?.close();
      } catch {
        // Nothing more to release.
      }
      files.forEach((f) => rmSync(f, { recursive: true, force: true }));
      return { kind: 'damaged', message: err instanceof Error ? err.message : String(err) };
    }
    this.drop();
    this.damaged = null;
    const snapshot: Snapshot = { db, version, stale: false };
    this.current = { snapshot, files };
    return { kind: 'ok', snapshot };
  }
}
