/** Progress output for long work: bars with ETA on a terminal, one line per finished task otherwise
 * (CI, pipes, `--quiet`). */
import cliProgress from 'cli-progress';

export interface Task {
  update(done: number, info?: string): void;
  stop(summary?: string): void;
}

export interface Progress {
  log(message: string): void;
  task(label: string, total: number): Task;
}

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const log = (message: string): void => void stream.write(message + '\n');
  const interactive = !options.quiet && stream.isTTY === true && process.env.CI !== 'true';
  if (!interactive) {
    return {
      log,
      task: (label) => {
        const start = Date.now();
        return {
          update: () => {},
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
