/** One process at a time per run directory. The lock file holds the owner's pid, so a lock left
 * by a process that was killed is recognised as stale and taken over. Taking it over also clears
 * SQLite's lock directory (`run.db.lock`), which a process killed mid-write leaves behind and
 * which would otherwise make every later write fail with "database is locked". */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../cli/errors.js';

const LOCK_FILE = 'run.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the run directory's lock; returns the function that releases it. */
export function acquireRunLock(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      rmSync(join(dir, 'run.db.lock'), { recursive: true, force: true });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      } catch {
        // Vanished between open and read: try again.
      }
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new UserError(`${dir} is in use by another ceiling process (pid ${pid})`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new UserError(`cannot lock ${dir}: ${file} keeps reappearing`);
}
