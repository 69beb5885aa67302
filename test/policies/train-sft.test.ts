/** `ceiling train-sft` as a trainer command: TRL JSONL in, checkpoint out; bad input is one line and
 * exit 2. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/engine/index.js';
import { ensureBuilt, makeCheckpoint, runCli, tempDir } from '../serve/helpers.js';

const tmp = tempDir('ceiling-train-sft-');
beforeAll(async () => {
  await ensureBuilt();
  makeCheckpoint(join(tmp.dir, 'base'), { contextLength: 64 });
}, 240_000);
afterAll(() => tmp.remove());

describe('ceiling train-sft', () => {
  it('trains on either TRL format and writes a loadable checkpoint', () => {
    const data = join(tmp.dir, 'data.jsonl');
    writeFileSync(data, [
      JSON.stringify({ prompt: 'Evaluate 1+2\n', completion: '1+2=3\n#### 3' }),
      '',
      JSON.stringify({ messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'Evaluate 2+2\n' }, { role: 'assistant', content: '2+2=4\n#### 4' }] }),
    ].join('\n'));
    const out = join(tmp.dir, 'out');
    const r = runCli(['train-sft', '--data', data, '--base', join(tmp.dir, 'base'), '--out', out, '--epochs', '3', '--lr', '0.01', '--batch-size', '1', '--seed', '4']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ step: 1, total_steps: 6 });
    expect(lines.at(-1)).toMatchObject({ done: true, steps: 6, out });
    expect(loadCheckpoint(out).model.config.contextLength).toBe(64);
  });

  it('bad JSONL names the line, exit 2', () => {
    const cases: [string, RegExp][] = [
      ['{"prompt":"a","completion":"b"}\n{"prompt": "a", \n', /bad\.jsonl:2: not valid JSON/],
      ['{"prompt":"a","completion":"b"}\n\n{"prompt": 1, "completion": "b"}\n', /bad\.jsonl:3: 'prompt' must be a string/],
      ['{"text": "a"}\n', /bad\.jsonl:1: expected/],
      ['\n\n', /no training examples/],
    ];
    for (const [text, re] of cases) {
      const file = join(tmp.dir, 'bad.jsonl');
      writeFileSync(file, text);
      const r = runCli(['train-sft', '--data', file, '--base', join(tmp.dir, 'base'), '--out', join(tmp.dir, 'never')]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  });

  it('a missing file, base or bad flag is one line, exit 2', () => {
    const data = join(tmp.dir, 'ok.jsonl');
    writeFileSync(data, '{"prompt":"a","completion":"b"}\n');
    for (const args of [
      ['--data', join(tmp.dir, 'missing.jsonl'), '--base', join(tmp.dir, 'base'), '--out', join(tmp.dir, 'o')],
      ['--data', data, '--base', join(tmp.dir, 'nobase'), '--out', join(tmp.dir, 'o')],
      ['--data', data, '--base', join(tmp.dir, 'base'), '--out', join(tmp.dir, 'o'), '--lr', 'fast'],
      ['--data', data, '--out', join(tmp.dir, 'o')],
    ]) {
      const r = runCli(['train-sft', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
