/** `ceiling dashboard` as a user runs it (the built binary): prints its URL, says what it cannot
 * show, serves the page and its bundle, stops cleanly, and rejects bad arguments in one line. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRun } from './fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/ceiling.js', import.meta.url));

let root: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ceiling-dash-cli-'));
  await makeRun(join(root, 'run'), 'rtuning');
  mkdirSync(join(root, 'empty'));
  mkdirSync(join(root, 'broken'));
  writeFileSync(join(root, 'broken', 'run.db'), 'not sqlite');
}, 60_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** Starts the dashboard and resolves with its URL once it prints it. */
function serve(...args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'dashboard', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed; stderr: ${err}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const url = /ceiling dashboard: (http:\/\/\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, stderr: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

describe('ceiling dashboard', () => {
  it('serves on a free local port, explains unreadable directories, and stops on SIGTERM', async () => {
    const { child, url, stderr } = await serve(join(root, 'run'), join(root, 'empty'), join(root, 'broken'), '--port', '0');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(stderr()).toMatch(/empty is empty: no run\.db yet/);
    expect(stderr()).toMatch(/broken\/run\.db is damaged and cannot be read/);
    expect(stderr()).not.toMatch(/not built/);
    const runs = (await (await fetch(new URL('/api/runs', url))).json()) as { runs: { status: string }[] };
    expect(runs.runs.map((r) => r.status)).toEqual(['ok', 'empty', 'damaged']);
    const html = await (await fetch(url)).text();
    expect(html).toContain('/assets/app.js');
    const js = await fetch(new URL('/assets/app.js', url));
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 40_000);

  it('says so when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, [BIN, 'dashboard', join(root, 'run'), '--port', String(port)], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`port ${port} is already in use`));
    } finally {
      blocker.close();
    }
  });

  it.each([
    [['dashboard'], /missing required argument 'dirs'/],
    [['dashboard', '/no/such/dir'], /\/no\/such\/dir does not exist/],
    [['dashboard', '.', '--port', 'http'], /--port must be an integer/],
    [['dashboard', '.', '--port', '70000'], /--port must be between 0 and 65535/],
  ])('%j → one line on stderr, exit 2', (args, message) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help describes the command', () => {
    const r = spawnSync(process.execPath, [BIN, 'dashboard', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/--port <n>/);
    expect(r.stdout).toMatch(/compare directories/);
  });
});
