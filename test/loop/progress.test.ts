import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatDuration } from '../../src/loop/progress.js';

/** A non-terminal stream that keeps what is written. */
function sink() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => (lines.push(s.trimEnd()), true) } as unknown as NodeJS.WritableStream };
}

afterEach(() => vi.useRealTimers());

describe('createProgress off a terminal', () => {
  it('writes the share done and an ETA at most once per interval, then a finishing line', () => {
    vi.useFakeTimers({ now: 0 });
    const { lines, stream } = sink();
    const task = createProgress({ stream, everyMs: 60_000 }).task('sample r1', 100);
    vi.setSystemTime(30_000);
    task.update(10);
    expect(lines).toEqual([]);
    vi.setSystemTime(60_000);
    task.update(25, 'loss 0.412');
    // 25 done in 60 s: 75 more take 180 s.
    expect(lines).toEqual(['sample r1: 25% (25/100) | loss 0.412 | ETA 3m 0s']);
    vi.setSystemTime(90_000);
    task.update(40);
    expect(lines).toHaveLength(1);
    vi.setSystemTime(125_000);
    task.stop('100 samples');
    expect(lines[1]).toBe('sample r1: 100 samples (125.0 s)');
  });

  it('in quiet mode writes only the finishing line', () => {
    vi.useFakeTimers({ now: 0 });
    const { lines, stream } = sink();
    const task = createProgress({ stream, quiet: true, everyMs: 0 }).task('train s1-r1', 1);
    vi.setSystemTime(600_000);
    task.update(0.5);
    task.stop();
    expect(lines).toEqual(['train s1-r1: done (600.0 s)']);
  });

  it('formats durations in hours, minutes and seconds', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(754)).toBe('12m 34s');
    expect(formatDuration(7_380)).toBe('2h 3m');
  });
});
