/** The dashboard reading a run database that another process is writing: the writer (with no
 * busy timeout, like the run store) is never blocked, and the dashboard only ever shows whole
 * rounds. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import type { RunSummary } from '../../src/dashboard/api.js';
import { makeRun } from './fixtures.js';

const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url));
const ROUNDS = 25;
const PER_ROUND = 3000;

let root: string;
let dash: Dashboard;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ceiling-dash-live-'));
  await makeRun(join(root, 'run'), 'ei');
  dash = await startDashboard({ dirs: [join(root, 'run')], port: 0, assetsDir: join(root, 'none') });
}, 120_000);

afterAll(async () => {
  await dash?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('dashboard beside a live writer', () => {
  it('never blocks the writer and never shows half a round', async () => {
    const child = spawn(process.execPath, [WRITER, join(root, 'run', 'run.db'), String(ROUNDS), String(PER_ROUND)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    let running = true;
    void exited.then(() => (running = false));

    const versions = new Set<string>();
    const seenRounds = new Set<number>();
    const started = Date.now();
    let requests = 0;
    // Poll as fast as the server answers until the writer is done (bounded in time and count).
    while (running && Date.now() - started < 60_000 && requests < 5000) {
      const res = await fetch(new URL('/api/summary?run=0', dash.url));
      requests++;
      expect([200, 503]).toContain(res.status);
      if (res.status !== 200) continue;
      const s = (await res.json()) as RunSummary;
      versions.add(s.run.version!);
      const written = s.rounds.filter((r) => r.phase === 'stage');
      seenRounds.add(written.length);
      for (const r of written) {
        expect(r.samples.train).toBe(PER_ROUND);
        expect(r.overall?.total).toBe(16);
      }
      const latest = written.at(-1);
      if (latest) {
        const page = await fetch(new URL(`/api/samples?run=0&round=${latest.key}&verdict=wrong&limit=20`, dash.url));
        expect(page.status).toBe(200);
        const body = (await page.json()) as { total: number; items: { reason: string }[] };
        expect(body.total).toBe(PER_ROUND / 3);
        expect(body.items.every((i) => i.reason === 'off by one')).toBe(true);
      }
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    // The dashboard saw the run grow while it was written, not just before and after.
    expect(seenRounds.size).toBeGreaterThan(2);
    expect(versions.size).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 50));
    const final = (await (await fetch(new URL('/api/summary?run=0', dash.url))).json()) as RunSummary;
    expect(final.rounds.filter((r) => r.phase === 'stage')).toHaveLength(ROUNDS);
  }, 90_000);
});
