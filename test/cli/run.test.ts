/** `ceiling run` as a user runs it: a real child process on the embedded engine, killed with
 * SIGKILL mid-run and resumed. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore } from '../../src/store/run-store.js';
import { loadCheckpoint } from '../../src/engine/checkpoint.js';

const BIN = fileURLToPath(new URL('../../bin/ceiling.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ceiling-cli-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TINY = {
  domain: 'arithmetic',
  problems: { difficulties: [1, 2, 3], train: 24, val: 12, test: 12 },
  model: { dModel: 32, nLayer: 1, nHead: 2, contextLength: 96 },
  init: { epochs: 3, batchSize: 16 },
  ei: { n: 4, maxTokens: 40, epochs: 1 },
  curriculum: { maxStages: 2, roundsPerStage: 2 },
  eval: { maxTokens: 40 },
};
const configFile = join(tmp, 'tiny.json');
writeFileSync(configFile, JSON.stringify(TINY));

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'run', ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });

function rounds(dir: string) {
  const store = RunStore.open(join(dir, 'run.db'));
  try {
    return store.rounds().map(({ finishedAt, ...r }) => r);
  } finally {
    store.close();
  }
}

describe('ceiling run', () => {
  it('runs Auto-CEI end to end and writes a report', () => {
    const out = join(tmp, 'full');
    const r = run('--config', configFile, '--out', out, '--quiet');
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ dir: out });
    expect(summary.selected).toMatch(/^(ei-r1|s\d+-r\d+)$/);
    for (const f of ['config.json', 'run.db', 'report.md', 'report.json', 'plots/rounds.svg', 'plots/c1.svg', 'plots/calibration.svg', 'plots/loss.svg']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    // One loss curve per training, named in the legend.
    const lossPlot = readFileSync(join(out, 'plots/loss.svg'), 'utf8');
    for (const training of ['init', 'ei-r1', 's1-r1']) expect(lossPlot).toContain(`>${training}<`);
    expect(rounds(out).map((x) => x.phase)).toEqual(expect.arrayContaining(['init', 'ei', 'stage', 'final']));
  });

  it('--reuse copies the identical rounds of a finished run and ends with the same rounds', () => {
    const out = join(tmp, 'reused');
    const r = run('--config', configFile, '--out', out, '--quiet', '--reuse', join(tmp, 'full'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/sft: the same model as .*full: copied/);
    expect(r.stderr).toMatch(/ei-r1: the same round as in .*full: copied/);
    const view = (dir: string) => rounds(dir).map(({ id, ...x }) => x);
    expect(view(out)).toEqual(view(join(tmp, 'full')));
    const missing = run('--config', configFile, '--out', join(tmp, 'nowhere'), '--reuse', join(tmp, 'no-such-run'));
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^ceiling: --reuse .*no-such-run: not a run directory/);
  });

  it('refuses to overwrite a run without --resume, and rejects a bad config with one line', () => {
    const out = join(tmp, 'full');
    const again = run('--config', configFile, '--out', out, '--quiet');
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds a run; pass --resume/);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ei: { n: 0 } }));
    const r = run('--config', bad, '--out', join(tmp, 'bad'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.json: ei\.n: /);
    const notJson = join(tmp, 'notjson.json');
    writeFileSync(notJson, '{ nope');
    expect(run('--config', notJson).stderr).toMatch(/is not valid JSON/);
  });

  it('resumes after SIGKILL mid-run without losing a finished round', async () => {
    const out = join(tmp, 'killed');
    const child = spawn(process.execPath, [BIN, 'run', '--config', configFile, '--out', out, '--quiet'], { env: { ...process.env, CI: 'true' } });
    let stderr = '';
    // Kill while the first curriculum round trains: after its samples are graded.
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/sample s1-r1:/.test(stderr)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`run ended before it could be killed:\n${stderr}`)));
    });
    await new Promise((r) => child.on('close', r));
    const before = rounds(out);
    expect(before.map((x) => x.phase)).toEqual(['sft', 'init', 'ei']);
    // What a kill during a database write leaves: SQLite's lock directory, and our stale run lock.
    mkdirSync(join(out, 'run.db.lock'));
    expect(readFileSync(join(out, 'run.lock'), 'utf8').trim()).toBe(String(child.pid));

    const resumed = run('--out', out, '--resume', '--quiet');
    expect(resumed.stderr).not.toMatch(/internal error/);
    expect(resumed.status).toBe(0);
    const after = rounds(out);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.at(-1)!.phase).toBe('final');
    // Every checkpoint the database points at loads.
    for (const r of after) if (r.checkpoint) expect(() => loadCheckpoint(join(out, r.checkpoint!))).not.toThrow();
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Held-out test');
    expect(existsSync(join(out, 'run.lock'))).toBe(false);
  });

  it('refuses a run directory another live process holds', () => {
    const out = join(tmp, 'held');
    mkdirSync(out);
    writeFileSync(join(out, 'run.lock'), `${process.pid}\n`);
    const r = run('--config', configFile, '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/in use by another ceiling process/);
  });

  it('compare runs every method on the same problems and writes one table', () => {
    const out = join(tmp, 'compare');
    const r = spawnSync(process.execPath, [BIN, 'compare', '--config', configFile, '--out', out, '--quiet', '--methods', 'sft,rtuning,autocei'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.status).toBe(0);
    const table = readFileSync(join(out, 'compare.md'), 'utf8');
    for (const m of ['sft', 'rtuning', 'autocei']) expect(table).toMatch(new RegExp(`^\\| ${m} \\|`, 'm'));
    expect(table).toContain('(best f)');
    expect(table).toContain('## Refusal rate by operations (held-out test)');
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(json.methods.map((e: { method: string }) => e.method)).toEqual(['sft', 'rtuning', 'autocei']);
    expect(json.pairedAgainstAutocei.map((e: { method: string; problems: number }) => [e.method, e.problems]))
      .toEqual(['sft', 'rtuning'].map((m) => [m, json.methods[0].test.overall.total]));
    expect(table).toContain('## autocei against each method, problem by problem');
    // Same seed, same problems in every run.
    const prompts = (m: string) => {
      const store = RunStore.open(join(out, m, 'run.db'));
      try {
        return store.problems('test').map((p) => p.prompt);
      } finally {
        store.close();
      }
    };
    expect(prompts('sft')).toEqual(prompts('autocei'));
    expect(existsSync(join(out, 'plots', 'methods.svg'))).toBe(true);
    // rtuning starts from the sft run's model, autocei from the R-Tuning run's: copied, not trained again.
    expect(r.stdout + r.stderr).toMatch(/sft: the same model as \S*compare\/sft: copied, not retrained/);
    expect(r.stdout + r.stderr).toMatch(/init: the same model as \S*compare\/rtuning: copied, not retrained/);
    expect(readFileSync(join(out, 'rtuning', 'checkpoints', 'sft', 'model.safetensors')))
      .toEqual(readFileSync(join(out, 'sft', 'checkpoints', 'init', 'model.safetensors')));
    expect(readFileSync(join(out, 'autocei', 'checkpoints', 'init', 'model.safetensors')))
      .toEqual(readFileSync(join(out, 'rtuning', 'checkpoints', 'init', 'model.safetensors')));
  });

  it('compare --reuse copies the identical work of finished runs', () => {
    const out = join(tmp, 'compare-reused');
    const r = spawnSync(process.execPath, [BIN, 'compare', '--preset', 'demo', '--config', configFile, '--out', out, '--quiet', '--methods', 'autocei', '--reuse', join(tmp, 'full')], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/ei-r1: the same round as in .*full: copied/);
    const view = (dir: string) => rounds(dir).map(({ id, ...x }) => x);
    expect(view(join(out, 'autocei'))).toEqual(view(join(tmp, 'full')));
  });
});
