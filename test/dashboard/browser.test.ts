/** The dashboard page in real headless Chromium: charts draw the right number of points, the
 * sample browser filters and pages, a round written while the page is open appears without a
 * reload, unreadable directories are explained, and nothing is fetched from anywhere else. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildAssets } from '../../src/dashboard/build-assets.mjs';
import { startDashboard, type Dashboard } from '../../src/dashboard/server.js';
import { appendRound, DIFFICULTIES, makeRun, storeView } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const mustRun = process.env.CI === 'true';
if (!haveChromium && !mustRun) {
  console.warn(`skipping the dashboard browser test: ${CHROMIUM} is not installed (apt-get install -y chromium)`);
}

/** Screenshots land here so they can be looked at after the run. */
const SHOTS = join(tmpdir(), 'ceiling-dashboard-screenshots');

let root: string;
let dash: Dashboard;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const pageErrors: string[] = [];
const dirs = { compare: '', damaged: '', empty: '' };

const symbols = (chart: string) => page.locator(`#${chart} svg g.mark-symbol.role-mark path`);

async function waitForCount(locator: ReturnType<Page['locator']>, n: number): Promise<void> {
  await expect.poll(() => locator.count(), { timeout: 15_000 }).toBe(n);
}

describe.skipIf(!haveChromium && !mustRun)('dashboard in Chromium', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ceiling-dash-browser-'));
    const assets = await buildAssets(join(root, 'assets'));
    dirs.compare = join(root, 'compare');
    for (const method of ['autocei', 'ei', 'sft'] as const) await makeRun(join(dirs.compare, method), method);
    writeFileSync(join(dirs.compare, 'compare.json'), JSON.stringify(['autocei', 'ei', 'sft'].map((method) => ({ method }))));
    dirs.damaged = join(root, 'damaged');
    mkdirSync(dirs.damaged);
    writeFileSync(join(dirs.damaged, 'run.db'), Buffer.alloc(8192, 0x5a));
    dirs.empty = join(root, 'empty');
    mkdirSync(dirs.empty);
    dash = await startDashboard({ dirs: [dirs.compare, dirs.damaged, dirs.empty], port: 0, assetsDir: assets, pollMs: 500 });
    expect(dash.missingAssets).toEqual([]);

    context = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await dash?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('draws a run: one point per round and metric, heatmaps, curriculum and reward curve', async () => {
    const { rounds } = storeView(join(dirs.compare, 'autocei'));
    const trained = rounds.filter((r) => r.phase !== 'final');
    const stages = new Set(trained.filter((r) => r.c1 !== null).map((r) => `${r.phase}${r.stage}`)).size;
    await page.goto(`${dash.url}#run=0/autocei`);
    await expect.poll(() => page.locator('#chart-metrics').getAttribute('data-state'), { timeout: 20_000 }).toBe('ready');
    await waitForCount(symbols('chart-metrics'), 4 * trained.length);
    await waitForCount(symbols('chart-c1'), stages);
    await waitForCount(page.locator('#chart-loss svg g.mark-line.role-mark path'), trained.length);
    await waitForCount(page.locator('#chart-reward svg g.mark-line.role-mark path'), 1);
    // Calibration: one cell per (round, difficulty), plus the held-out test row.
    await waitForCount(page.locator('#chart-refusal svg g.mark-rect.role-mark path'), (trained.length + 1) * DIFFICULTIES.length);
    await waitForCount(page.locator('#chart-accuracy svg g.mark-rect.role-mark path'), (trained.length + 1) * DIFFICULTIES.length);
    await waitForCount(page.locator('#rounds tbody tr'), rounds.length);
    expect(await page.locator('#run-status').textContent()).toBe('finished');
    await page.screenshot({ path: join(SHOTS, 'run-top.png') });
  }, 60_000);

  it('filters and pages the sample browser', async () => {
    const { rounds, verdictCount } = storeView(join(dirs.compare, 'autocei'));
    const ei = rounds.find((r) => r.phase === 'ei')!;
    const samples = page.locator('#samples .sample');
    await page.locator('#samples select[name=round]').selectOption('ei-r1');
    const all = verdictCount(ei.id, 'train');
    expect(all).toBeGreaterThan(50);
    await expect.poll(() => page.locator('#samples .pager .range').textContent()).toBe(`1–50 of ${all} train (EI samples) samples of ei-r1`);
    await waitForCount(samples, 50);
    await page.locator('#samples button[name=next]').click();
    await expect.poll(() => page.locator('#samples .pager .range').textContent()).toMatch(new RegExp(`^51–${all} of ${all} `));

    const wrong = verdictCount(ei.id, 'train', 'wrong');
    expect(wrong).toBeGreaterThan(0);
    await page.locator('#samples select[name=verdict]').selectOption('wrong');
    await expect.poll(() => page.locator('#samples .pager .range').textContent()).toMatch(new RegExp(`^1–${Math.min(wrong, 50)} of ${wrong} `));
    await waitForCount(samples, Math.min(wrong, 50));
    expect(new Set(await samples.evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict'))))).toEqual(new Set(['wrong']));
    await waitForCount(page.locator('#samples .sample .reason'), Math.min(wrong, 50));
    expect(await page.locator('#samples .sample .reason').first().textContent()).toMatch(/^verifier: miscounted/);

    await page.locator('#samples select[name=difficulty]').selectOption('8');
    await expect.poll(async () => new Set(await page.locator('#samples .problem .chip').allTextContents())).toEqual(new Set(['difficulty 8']));
    await page.locator('#samples .sample .response summary').first().click();
    await expect(page.locator('#samples .sample .response pre').first().isVisible()).resolves.toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'run.png'), fullPage: true });
    await page.locator('#samples').screenshot({ path: join(SHOTS, 'samples.png') });
  }, 60_000);

  it('shows a round recorded while the page is open, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const before = await symbols('chart-metrics').count();
    appendRound(join(dirs.compare, 'autocei'), 9, 3.25, { precision: 0.95, idkRate: 0.4 });
    await waitForCount(symbols('chart-metrics'), before + 4);
    await expect.poll(() => page.locator('#rounds tr[data-round="s9-r1"]').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('#chart-reward').textContent()).toContain('c1 = 3.250');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  }, 60_000);

  it('explains a damaged database and an empty directory, and keeps serving', async () => {
    await page.evaluate(() => (location.hash = 'run=1'));
    const damaged = page.locator('.banner[data-status=damaged]');
    await expect.poll(() => damaged.count(), { timeout: 15_000 }).toBe(1);
    expect(await damaged.textContent()).toMatch(/cannot be read\. .*run\.db is damaged and cannot be read: .*not a database/);
    await page.screenshot({ path: join(SHOTS, 'damaged.png') });
    await page.evaluate(() => (location.hash = 'run=2'));
    await expect.poll(() => page.locator('.banner[data-status=empty]').textContent(), { timeout: 15_000 }).toMatch(/is empty: no run\.db yet/);
    expect(await page.locator('.tab[data-status=damaged]').count()).toBe(1);
    expect((await fetch(new URL('/api/runs', dash.url))).status).toBe(200);
  }, 60_000);

  it('compares the runs side by side', async () => {
    await page.evaluate(() => (location.hash = 'compare'));
    await waitForCount(page.locator('#compare-table tbody tr'), 5);
    const trainedRounds = ['autocei', 'ei', 'sft'].map((m) => storeView(join(dirs.compare, m)).rounds.filter((r) => r.phase !== 'final').length);
    await waitForCount(symbols('chart-compare-rounds'), 4 * trainedRounds.reduce((a, b) => a + b, 0));
    await waitForCount(page.locator('#chart-compare-test svg g.mark-rect.role-mark path'), 3 * 4);
    await waitForCount(symbols('chart-compare-calibration'), 3 * 2 * DIFFICULTIES.length);
    expect(await page.locator('#compare-table tr.best').count()).toBe(1);
    // Each finished run's test f with its 95% interval, as compare.md prints it.
    expect(await page.locator('#compare-table tr.best td').last().textContent()).toMatch(/^\d\.\d{4} ± \d\.\d{3}$/);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'compare.png'), fullPage: true });
  }, 60_000);

  it('loaded everything from the dashboard itself, without page errors', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(dash.url))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
