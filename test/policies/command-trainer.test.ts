/** The command-template trainer: word splitting, placeholder expansion, TRL exports, progress,
 * failure detection and the atomic hand-over of the output directory. */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CommandTemplateError, SERVED_NAME_FILE, checkPlaceholders, createCommandTrainer, expandCommand, parseProgressLine, splitCommand,
} from '../../src/policies/command-trainer.js';
import { parseTrlJsonl, toMessages } from '../../src/policies/export.js';
import type { Example } from '../../src/policies/types.js';
import { tempDir } from '../serve/helpers.js';

const tmp = tempDir('ceiling trainer ');
afterAll(() => tmp.remove());

describe('command templates', () => {
  it('splits like a shell, without expanding anything', () => {
    expect(splitCommand('python  train.py --data {data}\t--out {out}')).toEqual(['python', 'train.py', '--data', '{data}', '--out', '{out}']);
    expect(splitCommand(`a 'b c' "d \\"e\\" $HOME" f\\ g ''`)).toEqual(['a', 'b c', 'd "e" $HOME', 'f g', '']);
    expect(splitCommand(`sh -c 'train "$1" && echo ok' _ {data}`)).toEqual(['sh', '-c', 'train "$1" && echo ok', '_', '{data}']);
    expect(() => splitCommand(`a 'b`)).toThrow(CommandTemplateError);
    expect(() => splitCommand(`a "b`)).toThrow(CommandTemplateError);
    expect(() => splitCommand('   ')).toThrow(/empty/);
  });

  it('substitutes placeholders inside words; values stay one argument', () => {
    const values = {
      data: '/r/my data/it\'s "x".jsonl', data_messages: 'm', base: 'b', base_model: 'bm', out: '/o', epochs: '1.5', lr: '0.0001',
      batch_size: '8', seed: '3', examples: '10', steps: '2', name: 'n',
    };
    expect(expandCommand(['t', '--data={data}', '{out}/x', '{{literal}}', '$(rm -rf {out})'], values))
      .toEqual(['t', `--data=${values.data}`, '/o/x', '{literal}', '$(rm -rf /o)']);
    expect(() => checkPlaceholders(['--x', '{dat}'])).toThrow(/unknown placeholder \{dat\}/);
    expect(() => checkPlaceholders(['{"json": 1}', '{{x}}'])).not.toThrow();
  });

  it('recognises progress lines', () => {
    expect(parseProgressLine('{"step":3,"total_steps":10,"loss":1.5}')).toEqual({ step: 3, totalSteps: 10, loss: 1.5 });
    expect(parseProgressLine("{'loss': 0.8123, 'grad_norm': 1.2, 'learning_rate': 0.0002, 'epoch': 0.5}")).toEqual({ loss: 0.8123 });
    expect(parseProgressLine('Epoch 1: loss=0.3')).toBeNull();
    expect(parseProgressLine('{"unrelated": true}')).toBeNull();
  });
});

describe('TRL export', () => {
  it('both formats round-trip through the reader', () => {
    const ex: Example[] = [{ prompt: 'Evaluate 1+2\n', completion: '1+2=3\n#### 3' }, { prompt: 'q "x"', completion: 'Sorry' }];
    const pc = ex.map((e) => JSON.stringify(e)).join('\n');
    const msgs = ex.map((e) => JSON.stringify(toMessages(e))).join('\n');
    expect(parseTrlJsonl(pc, 'a')).toEqual(ex);
    expect(parseTrlJsonl(msgs, 'b')).toEqual(ex);
    expect(() => parseTrlJsonl('{"prompt":"a","completion":"b"}\n\n{oops', 'f.jsonl')).toThrow(/^f\.jsonl:3: not valid JSON/);
    expect(() => parseTrlJsonl('{"prompt":"a"}', 'f.jsonl')).toThrow(/f\.jsonl:1: 'completion' must be a string/);
    expect(() => parseTrlJsonl('{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}', 'f')).toThrow(/f:1: the last message/);
  });
});

/** A stand-in trainer: reads {data} and {data_messages}, prints progress, writes {out}. */
const script = join(tmp.dir, 'fake trainer.mjs');
writeFileSync(script, `
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const [data, messages, out, mode, steps] = process.argv.slice(2);
const n = readFileSync(data, 'utf8').trim().split('\\n').length;
if (readFileSync(messages, 'utf8').trim().split('\\n').length !== n) process.exit(9);
for (let s = 1; s <= Number(steps); s++) console.log(JSON.stringify({ step: s, total_steps: Number(steps), loss: 1 / s }));
console.error('a warning on stderr');
if (mode === 'fail') { console.error('CUDA out of memory'); process.exit(3); }
if (mode === 'hang') setTimeout(() => {}, 60000);
if (mode !== 'nothing' && mode !== 'hang') { mkdirSync(out); writeFileSync(out + '/adapter_model.safetensors', String(n)); }
`);

const examples: Example[] = Array.from({ length: 5 }, (_, i) => ({ prompt: `p${i}`, completion: `c${i}` }));
const request = (round: string) => ({
  examples, base: null, outDir: join(tmp.dir, 'run', 'checkpoints', round), seed: 1, epochs: 2, batchSize: 2, lr: 1e-4,
});

describe('command trainer', () => {
  it('runs the command, streams its log, reports progress and moves the output into place', async () => {
    const lines: string[] = [];
    const trainer = createCommandTrainer({ command: `node "${script}" {data} {data_messages} {out} ok {steps}`, baseModel: 'org/base', onLog: (l) => lines.push(l) });
    const progress: [number, number, number][] = [];
    const r = await trainer.train({ ...request('init'), onProgress: (s, t, l) => progress.push([s, t, l]) });
    const out = join(tmp.dir, 'run', 'checkpoints', 'init');
    expect(r).toEqual({ checkpoint: out, loss: 1 / 6, steps: 6 });
    expect(progress).toHaveLength(6);
    expect(progress[5]).toEqual([6, 6, 1 / 6]);
    expect(readFileSync(join(out, 'adapter_model.safetensors'), 'utf8')).toBe('5');
    expect(JSON.parse(readFileSync(join(out, SERVED_NAME_FILE), 'utf8')).name).toMatch(/^ceiling-init-[0-9a-f]{8}$/);
    // Exports in both TRL formats.
    const data = join(tmp.dir, 'run', 'train-data');
    expect(parseTrlJsonl(readFileSync(join(data, 'init.jsonl'), 'utf8'), 'x')).toEqual(examples);
    expect(JSON.parse(readFileSync(join(data, 'init.messages.jsonl'), 'utf8').split('\n')[0]!)).toEqual(toMessages(examples[0]!));
    // The log has stdout and stderr; no temporary directory is left behind.
    const log = readFileSync(join(tmp.dir, 'run', 'logs', 'train-init.log'), 'utf8');
    expect(log).toContain('a warning on stderr');
    expect(lines).toContain('a warning on stderr');
    expect(readdirSync(join(tmp.dir, 'run', 'checkpoints'))).toEqual(['init']);
    expect(trainer.lastArgv![1]).toBe(script);
  });

  it('a failing command is a clear error and leaves no checkpoint', async () => {
    const trainer = createCommandTrainer({ command: ['node', script, '{data}', '{data_messages}', '{out}', 'fail', '1'], baseModel: 'b' });
    const err = await trainer.train(request('r-fail')).catch((e: Error) => e);
    expect(String(err)).toMatch(/training command exited with code 3 \(log: .*train-r-fail\.log\); last output: .*CUDA out of memory/);
    expect(existsSync(join(tmp.dir, 'run', 'checkpoints', 'r-fail'))).toBe(false);
  });

  it('exit 0 without an output directory is an error', async () => {
    const trainer = createCommandTrainer({ command: ['node', script, '{data}', '{data_messages}', '{out}', 'nothing', '1'], baseModel: 'b' });
    await expect(trainer.train(request('r-none'))).rejects.toThrow(/exited 0 but wrote no output directory/);
  });

  it('a missing program and a hung one are errors too', async () => {
    await expect(createCommandTrainer({ command: 'no-such-trainer-xyz {data}', baseModel: 'b' }).train(request('r-missing')))
      .rejects.toThrow(/not found: 'no-such-trainer-xyz'/);
    const hung = createCommandTrainer({ command: ['node', script, '{data}', '{data_messages}', '{out}', 'hang', '1'], baseModel: 'b', timeoutMs: 500 });
    await expect(hung.train(request('r-hang'))).rejects.toThrow(/timed out after 500 ms/);
  });

  it('replaces the directory of an earlier attempt', async () => {
    const dir = join(tmp.dir, 'run', 'checkpoints', 'again');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stale'), 'x');
    const trainer = createCommandTrainer({ command: ['node', script, '{data}', '{data_messages}', '{out}', 'ok', '1'], baseModel: 'b' });
    await trainer.train(request('again'));
    expect(readdirSync(dir).sort()).toEqual(['adapter_model.safetensors', SERVED_NAME_FILE]);
  });
});
