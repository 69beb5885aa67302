/** The dashboard server and its JSON API over real run directories: summaries match the run
 * database, samples page and filter in SQL, bad requests get 4xx JSON, damaged or missing runs are
 * explained without stopping the server, and a round written while the server runs shows up. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { listRuns } from '../../src/dashboard/sources.js';
import type { RunInfo, RunSummary } from '../../src/dashboard/api.js';
import type { SamplePage } from '../../src/dashboard/queries.js';
import { appendRound, DIFFICULTIES, makeRun, storeView } from './fixtures.js';

let root: string;
let dash: Dashboard;
const dirs = { compare: '', single: '', damaged: '', truncated: '', empty: '', notRun: '' };

async function api<T = Record<string, unknown>>(path: string, init: { method?: string; host?: string } = {}): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, dash.url), { method: init.method ?? 'GET', headers: init.host ? { Host: init.host } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode!, body: JSON.parse(text) as T });
        } catch (err) {
          reject(new Error(`${path}: not JSON (${res.statusCode}): ${text.slice(0, 200)}`, { cause: err }));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const runs = async () => (await api<{ runs: RunInfo[] }>('/api/runs')).body.runs;
const byName = async (name: string) => (await runs()).find((r) => r.name === name)!;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ceiling-dash-api-'));
  dirs.compare = join(root, 'compare');
  await makeRun(join(dirs.compare, 'ei'), 'ei');
  await makeRun(join(dirs.compare, 'autocei'), 'autocei');
  writeFileSync(join(dirs.compare, 'compare.json'), JSON.stringify({ methods: [{ method: 'ei' }, { method: 'autocei' }] }));
  dirs.single = join(root, 'single');
  await makeRun(dirs.single, 'autocei');
  dirs.damaged = join(root, 'damaged');
  mkdirSync(dirs.damaged);
  writeFileSync(join(dirs.damaged, 'run.db'), 'this is not a database, just some text that happens to be here\n'.repeat(100));
  dirs.truncated = join(root, 'truncated');
  mkdirSync(dirs.truncated);
  copyFileSync(join(dirs.single, 'run.db'), join(dirs.truncated, 'run.db'));
  truncateSync(join(dirs.truncated, 'run.db'), Math.floor(statSync(join(dirs.single, 'run.db')).size / 2));
  dirs.empty = join(root, 'empty');
  mkdirSync(dirs.empty);
  dirs.notRun = join(root, 'notes');
  mkdirSync(dirs.notRun);
  writeFileSync(join(dirs.notRun, 'README.txt'), 'hello');
  dash = await startDashboard({
    dirs: [dirs.compare, dirs.single, dirs.damaged, dirs.truncated, dirs.empty, dirs.notRun, join(root, 'nowhere')],
    port: 0, assetsDir: join(root, 'no-assets'), snapshot: { waitMs: 500 },
  });
}, 120_000);

afterAll(async () => {
  await dash?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('run discovery', () => {
  it('expands a compare directory in compare.json order and explains what is not a run', () => {
    const entries = listRuns([dirs.compare, dirs.empty, dirs.notRun, join(root, 'nowhere'), join(dirs.notRun, 'README.txt')]);
    expect(entries.map((e) => e.id)).toEqual(['0/ei', '0/autocei', '1', '2', '3', '4']);
    expect(entries.slice(0, 2).every((e) => e.group === 'compare' && e.hasDb)).toBe(true);
    expect(entries.slice(2).map((e) => e.problem?.status)).toEqual(['empty', 'not-a-run', 'missing', 'not-a-run']);
    expect(entries[2]!.problem!.message).toMatch(/is empty: no run\.db yet/);
  });
});

describe('dashboard API', () => {
  it('binds to 127.0.0.1 on a free port', () => {
    expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(dash.port).toBeGreaterThan(0);
  });

  it('lists every run with its status', async () => {
    const list = await runs();
    const status = Object.fromEntries(list.map((r) => [r.name, r.status]));
    expect(status).toEqual({ autocei: 'ok', ei: 'ok', single: 'ok', damaged: 'damaged', truncated: 'damaged', empty: 'empty', notes: 'not-a-run', nowhere: 'missing' });
    const single = list.find((r) => r.name === 'single')!;
    expect(single).toMatchObject({ method: 'autocei', domain: 'blocksworld', finished: true, latest: 'final' });
    expect(list.find((r) => r.name === 'damaged')!.message).toMatch(/damaged.*not a database/);
  });

  it('summarises a run as the store recorded it', async () => {
    const single = await byName('single');
    const { status, body } = await api<RunSummary>(`/api/summary?run=${single.id}`);
    expect(status).toBe(200);
    const { rounds } = storeView(dirs.single);
    const trained = rounds.filter((r) => r.phase !== 'final');
    expect(body.rounds.map((r) => r.id)).toEqual(trained.map((r) => r.id));
    expect(body.rounds.slice(0, 3).map((r) => r.key)).toEqual(['sft', 'init', 'ei-r1']);
    expect(body.rounds.every((r) => r.overall !== null && r.byDifficulty.length === DIFFICULTIES.length)).toBe(true);
    expect(body.rounds.map((r) => r.overall!.f)).toEqual(trained.map((r) => r.f));
    expect(body.final?.overall?.total).toBe(16);
    expect(body.final?.byDifficulty.map((m) => m.difficulty)).toEqual(DIFFICULTIES);
    expect(body.selected).toMatch(/^(init|ei-r1|s\d+-r\d+)$/);
    // Curriculum: the baseline round's c1 first, then one entry per stage; latest is the last round's.
    expect(body.stages[0]!.stage).toBeNull();
    expect(body.stages[0]!.c1).toBeCloseTo(rounds[2]!.c1!, 9);
    expect(body.stages.slice(1).map((s) => s.stage)).toEqual([...new Set(trained.filter((r) => r.phase === 'stage').map((r) => r.stage))]);
    expect(body.curriculum).toMatchObject({ c1: trained.at(-1)!.c1, round: body.rounds.at(-1)!.key });
    // Every trained round recorded 20 loss steps.
    expect(body.losses.filter((l) => l.round === 'init')).toHaveLength(20);
    expect(body.config).toMatchObject({ method: 'autocei' });
  });

  it('pages and filters samples', async () => {
    const single = await byName('single');
    const { rounds, verdictCount } = storeView(dirs.single);
    const ei = rounds.find((r) => r.phase === 'ei')!;
    const all = await api<SamplePage & { split: string }>(`/api/samples?run=${single.id}&round=ei-r1&limit=7`);
    expect(all.status).toBe(200);
    expect(all.body.split).toBe('train');
    expect(all.body.total).toBe(verdictCount(ei.id, 'train'));
    expect(all.body.items).toHaveLength(7);
    expect(all.body.verdicts.correct + all.body.verdicts.wrong + all.body.verdicts.idk).toBe(all.body.total);
    const next = await api<SamplePage>(`/api/samples?run=${single.id}&round=ei-r1&limit=7&offset=7`);
    expect(next.body.items[0]!.problemId + next.body.items[0]!.index).not.toBe(all.body.items[0]!.problemId + all.body.items[0]!.index);

    const wrong = await api<SamplePage>(`/api/samples?run=${single.id}&round=ei-r1&verdict=wrong&limit=500`);
    expect(wrong.body.total).toBe(verdictCount(ei.id, 'train', 'wrong'));
    expect(wrong.body.total).toBeGreaterThan(0);
    expect(wrong.body.items.every((s) => s.verdict === 'wrong' && s.reason?.startsWith('miscounted'))).toBe(true);
    expect(wrong.body.items.every((s) => s.reward === -1 && s.prompt !== null && s.gold !== null)).toBe(true);

    const hard = await api<SamplePage>(`/api/samples?run=${single.id}&round=ei-r1&difficulty=8&limit=500`);
    expect(hard.body.total).toBeGreaterThan(0);
    expect(hard.body.items.every((s) => s.difficulty === 8)).toBe(true);

    const test = await api<SamplePage & { split: string }>(`/api/samples?run=${single.id}&round=final`);
    expect(test.body.split).toBe('test');
    expect(test.body.total).toBe(verdictCount(rounds.at(-1)!.id, 'test'));
  });

  it('pages deep into a round of more than ten thousand samples', async () => {
    const big = join(root, 'big');
    await makeRun(big, 'sft');
    appendRound(big, 1, 2, { precision: 0.5, idkRate: 0.5 }, 12_000);
    const local = await startDashboard({ dirs: [big], port: 0, assetsDir: join(root, 'no-assets') });
    try {
      const t0 = Date.now();
      const res = await fetch(new URL('/api/samples?run=0&round=s1-r1&offset=11990&limit=50', local.url));
      const body = (await res.json()) as SamplePage;
      expect(res.status).toBe(200);
      expect(body.total).toBe(12_000);
      expect(body.items.map((s) => s.index)).toEqual([11990, 11991, 11992, 11993, 11994, 11995, 11996, 11997, 11998, 11999]);
      const narrowed = (await (await fetch(new URL(`/api/samples?run=0&round=s1-r1&problem=${encodeURIComponent(body.items[0]!.problemId)}&limit=500`, local.url))).json()) as SamplePage;
      expect(narrowed.total).toBeGreaterThan(0);
      expect(narrowed.total).toBeLessThan(12_000);
      expect(narrowed.items.every((s) => s.problemId.includes(body.items[0]!.problemId))).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await local.close();
    }
  });

  it.each([
    ['/api/summary', 400, /missing query parameter 'run'/],
    ['/api/summary?run=99', 404, /no run with id '99'/],
    ['/api/samples?run=1', 400, /missing query parameter 'round'/],
    ['/api/samples?run=1&round=ei-r1&verdict=maybe', 400, /'verdict' must be one of correct, wrong, idk/],
    ['/api/samples?run=1&round=ei-r1&split=dev', 400, /'split' must be one of/],
    ['/api/samples?run=1&round=ei-r1&limit=0', 400, /'limit' must be an integer from 1 to 500/],
    ['/api/samples?run=1&round=ei-r1&limit=100000', 400, /'limit'/],
    ['/api/samples?run=1&round=ei-r1&offset=-3', 400, /'offset'/],
    ['/api/samples?run=1&round=ei-r1&difficulty=hard', 400, /'difficulty'/],
    ['/api/samples?run=1&round=s99-r1', 404, /no round 's99-r1'/],
    ['/api/summary?run=2', 422, /damaged/],
    ['/api/summary?run=4', 422, /empty/],
    ['/api/nothing', 404, /no API endpoint/],
    ['/favicon.ico', 404, /not found/],
    ['/assets/../../etc/passwd', 404, /not found/],
  ])('GET %s → %i JSON error', async (path, code, message) => {
    const { status, body } = await api<{ error: string }>(path);
    expect(status).toBe(code);
    expect(body.error).toMatch(message);
  });

  it('refuses writes and foreign host names', async () => {
    expect((await api('/api/runs', { method: 'POST' })).status).toBe(405);
    expect((await api('/api/runs', { host: 'evil.example:80' })).status).toBe(403);
    expect((await api('/api/runs', { host: `localhost:${dash.port}` })).status).toBe(200);
  });

  it('serves the page, saying so when its bundle was not built', async () => {
    const html = await new Promise<string>((resolve, reject) => {
      request(dash.url, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(t));
      }).on('error', reject).end();
    });
    expect(html).toContain('<title>ceiling dashboard</title>');
    expect(html).toMatch(/not built: missing .*app\.js/);
    expect(dash.missingAssets).toHaveLength(2);
  });

  it('shows a round written while the server runs, and reads without touching the writer', async () => {
    const single = await byName('single');
    const before = (await api<RunSummary>(`/api/summary?run=${single.id}`)).body;
    appendRound(dirs.single, 9, 2.5, { precision: 0.9, idkRate: 0.3 });
    await new Promise((r) => setTimeout(r, 40));
    const after = (await api<RunSummary>(`/api/summary?run=${single.id}`)).body;
    expect(after.rounds).toHaveLength(before.rounds.length + 1);
    expect(after.rounds.at(-1)).toMatchObject({ key: 's9-r1', c1: 2.5 });
    expect(after.rounds.at(-1)!.overall!.precision).toBeCloseTo(0.9);
    expect(after.run.version).not.toBe(before.run.version);
    // The dashboard reads private copies: it never takes the writer's lock or leaves files there.
    expect(existsSync(join(dirs.single, 'run.db.lock'))).toBe(false);
    expect(existsSync(join(dirs.single, 'run.db-journal'))).toBe(false);
  });

  it('keeps serving the last good state while the writer holds its lock mid-write', async () => {
    const single = await byName('single');
    const before = (await api<RunSummary>(`/api/summary?run=${single.id}`)).body;
    const db = join(dirs.single, 'run.db');
    const original = readFileSync(db);
    // A writer inside a transaction: lock held, file just modified.
    mkdirSync(`${db}.lock`);
    try {
      writeFileSync(db, Buffer.concat([original, Buffer.alloc(4096)]));
      const during = await api<RunSummary>(`/api/summary?run=${single.id}`);
      expect(during.status).toBe(200);
      expect(during.body.run.stale).toBe(true);
      expect(during.body.rounds).toHaveLength(before.rounds.length);
      expect((await byName('single')).stale).toBe(true);
    } finally {
      writeFileSync(db, original);
      rmSync(`${db}.lock`, { recursive: true });
    }
    await new Promise((r) => setTimeout(r, 40));
    const after = await api<RunSummary>(`/api/summary?run=${single.id}`);
    expect(after.body.run.stale).toBe(false);
  });

  it('reports a database that becomes damaged, and recovers when it is repaired', async () => {
    const ei = (await runs()).find((r) => r.id === '0/ei')!;
    expect(ei.status).toBe('ok');
    const db = join(dirs.compare, 'ei', 'run.db');
    const original = readFileSync(db);
    writeFileSync(db, Buffer.from('garbage'.repeat(1000)));
    await new Promise((r) => setTimeout(r, 40));
    const broken = (await runs()).find((r) => r.id === '0/ei')!;
    expect(broken.status).toBe('damaged');
    expect((await api(`/api/summary?run=0/ei`)).status).toBe(422);
    writeFileSync(db, original);
    await new Promise((r) => setTimeout(r, 40));
    expect((await runs()).find((r) => r.id === '0/ei')!.status).toBe('ok');
  });
});
