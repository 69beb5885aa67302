/** Shared by the serve and policy tests: a fresh build of dist/ when src/ is newer, tiny random
 * checkpoints, and `ceiling serve` in a child process. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CharTokenizer, createGpt, makeConfig, saveCheckpoint } from '../../src/engine/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'ceiling.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** Runs `tsc -p .` when dist/ is missing or older than src/ (it emits even when unrelated files have
 * type errors). A lock directory keeps parallel test files from building at the same time. */
export async function ensureBuilt(): Promise<void> {
  const target = join(ROOT, 'dist', 'cli', 'main.js');
  const lock = join(tmpdir(), `ceiling-build-lock-${Buffer.from(ROOT).toString('hex').slice(-24)}`);
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (mtime(target) >= newest(join(ROOT, 'src')) && mtime(join(ROOT, 'dist', 'cli', 'serve.js')) > 0) return;
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() - mtime(lock) > 300_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another build');
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (mtime(target) >= newest(join(ROOT, 'src')) && mtime(join(ROOT, 'dist', 'cli', 'serve.js')) > 0) return;
      spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { cwd: ROOT, stdio: 'ignore' });
      if (mtime(join(ROOT, 'dist', 'cli', 'serve.js')) === 0) throw new Error('tsc did not emit dist/cli/serve.js');
      return;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export interface TinyDims {
  dModel?: number;
  nLayer?: number;
  nHead?: number;
  contextLength?: number;
  seed?: number;
}

/** A random-init checkpoint (tiny, so sampling is fast). */
export function makeCheckpoint(dir: string, dims: TinyDims = {}): string {
  const tok = new CharTokenizer();
  const model = createGpt(makeConfig({
    vocabSize: tok.vocabSize, contextLength: dims.contextLength ?? 96, dModel: dims.dModel ?? 16, nLayer: dims.nLayer ?? 1, nHead: dims.nHead ?? 2,
  }), { seed: dims.seed ?? 1 });
  saveCheckpoint(dir, model, tok);
  return dir;
}

export interface ServeProcess {
  /** http://127.0.0.1:PORT (no /v1). */
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** `node bin/ceiling.js serve --port 0 …`, resolved once it prints its address. */
export function startServeProcess(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve did not start: ${err}`));
    }, 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${err}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/[^\s]+)\/v1/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolveStart({
        url: m[1]!, proc, stderr: () => err,
        stop: async () => {
          if (proc.exitCode === null) proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    });
  });
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = join(tmpdir(), `${prefix}${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runCli(args: readonly string[], options: { cwd?: string } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
