/** Progress output for long work: bars with ETA on a terminal; otherwise (CI, pipes, log files) a
 * line every `everyMs` with the share done and the ETA, and one when a task finishes. `--quiet`
 * keeps only the finishing lines. */
import cliProgress from 'cli-progress';

export interface Task {
  update(done: number, info?: string): void;
  stop(summary?: string): void;
}

export interface Progress {
  log(message: string): void;
  task(label: string, total: number): Task;
}

/** 754 s → "12m 34s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WritableStream & { isTTY?: boolean }; everyMs?: number } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const log = (message: string): void => void stream.write(message + '\n');
  const interactive = !options.quiet && stream.isTTY === true && process.env.CI !== 'true';
  if (!interactive) {
    const everyMs = options.quiet ? Infinity : (options.everyMs ?? 60_000);
    return {
      log,
      task: (label, total) => {
        const start = Date.now();
        let last = start;
        return {
          update: (done, info) => {
            const now = Date.now();
            if (now - last < everyMs || done <= 0 || done >= total) return;
            last = now;
            const eta = ((now - start) / done) * (total - done) / 1000;
            log(`${label}: ${((100 * done) / total).toFixed(0)}%${total > 1 ? ` (${done}/${total})` : ''}${info ? ` | ${info}` : ''} | ETA ${formatDuration(eta)}`);
          },
          stop: (summary) => log(`${label}: ${summary ?? 'done'} (${((Date.now() - start) / 1000).toFixed(1)} s)`),
        };
      },
    };
  }
  return {
    log,
    task: (label, total) => {
      const bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(22)} [{bar}] {value}/{total} | {info} | ETA {eta_formatted}`, stream, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      const start = Date.now();
      bar.start(total, 0, { info: '' });
      return {
        update: (done, info) => bar.update(done, { info: info ?? '' }),
        stop: (summary) => {
          bar.stop();
          log(`${label}: ${summary ?? 'done'} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
        },
      };
    },
  };
}

/** Progress that prints nothing (library use, tests). */
export const silentProgress: Progress = { log: () => {}, task: () => ({ update: () => {}, stop: () => {} }) };
