/** Load and abuse: 64 concurrent clients for 30 s with no failed request and no memory growth
 * trend, then malformed traffic (random bytes, bad JSON, wrong types, huge bodies, partial
 * requests) after which the server still answers. Loopback only; every loop is bounded. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseMetrics } from '../../src/serve/metrics.js';
import { createRng } from '../../src/util/random.js';
import { ensureBuilt, makeCheckpoint, type ServeProcess, startServeProcess, tempDir } from './helpers.js';

const tmp = tempDir('ceiling-serve-load-');
let serve: ServeProcess;
const MODEL = 'tiny';

beforeAll(async () => {
  await ensureBuilt();
  makeCheckpoint(join(tmp.dir, 'base'), { dModel: 16, nLayer: 1, contextLength: 64 });
  serve = await startServeProcess(['--checkpoint', join(tmp.dir, 'base'), '--model-name', MODEL, '--max-body-bytes', '65536']);
}, 240_000);

afterAll(async () => {
  const code = await serve?.stop();
  tmp.remove();
  expect(code).toBe(0);
});

async function rss(): Promise<number> {
  const m = parseMetrics(await (await fetch(`${serve.url}/metrics`)).text());
  return m.get('process_resident_memory_bytes')!;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function completion(body: unknown): Promise<Response> {
  return fetch(`${serve.url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000),
  });
}

describe('load', () => {
  it('64 clients for 30 s: every request answered, memory flat', async () => {
    const DURATION = 30_000;
    const start = Date.now();
    const end = start + DURATION;
    let ok = 0;
    const failures: string[] = [];
    const samples: { t: number; rss: number }[] = [];
    const sampler = (async () => {
      while (Date.now() < end) {
        samples.push({ t: Date.now() - start, rss: await rss() });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const client = async (c: number): Promise<void> => {
      const rng = createRng(c + 1);
      for (let i = 0; Date.now() < end; i++) {
        const stream = i % 5 === 4;
        try {
          const res = await completion({ model: MODEL, prompt: `client ${c} request ${i}`, max_tokens: rng.int(1, 12), n: rng.int(1, 3), stream });
          const text = await res.text();
          if (res.status !== 200) failures.push(`${res.status} ${text.slice(0, 200)}`);
          else if (stream ? !text.endsWith('data: [DONE]\n\n') : JSON.parse(text).choices.length === 0) failures.push(`bad body ${text.slice(0, 200)}`);
          else ok++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    await Promise.all([...Array.from({ length: 64 }, (_, c) => client(c)), sampler]);
    expect(failures.slice(0, 5)).toEqual([]);
    expect(ok).toBeGreaterThan(500);
    // Compare the first and last third of the run (after a few seconds of warm-up).
    const steady = samples.filter((s) => s.t >= 3_000).map((s) => s.rss);
    const third = Math.floor(steady.length / 3);
    const first = median(steady.slice(0, third));
    const last = median(steady.slice(-third));
    console.log(`load: ${ok} requests in ${DURATION / 1000} s (${(ok / (DURATION / 1000)).toFixed(0)}/s); RSS first third ${(first / 2 ** 20).toFixed(1)} MiB, last third ${(last / 2 ** 20).toFixed(1)} MiB`);
    // A leak grows without bound; garbage awaiting a major collection stays within a bounded sawtooth.
    expect(last).toBeLessThan(first * 1.25 + 16 * 2 ** 20);
  }, 90_000);
});

/** Writes raw bytes on a fresh connection; resolves to whatever came back before close (or '' after
 * `waitMs`). */
function raw(data: Buffer | string, waitMs = 3_000): Promise<string> {
  const { port } = new URL(serve.url);
  return new Promise((resolve) => {
    const s = connect(Number(port), '127.0.0.1');
    let got = '';
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(got);
    };
    const t = setTimeout(done, waitMs);
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('error', done);
    s.on('close', done);
    s.write(data);
  });
}

describe('malformed traffic', () => {
  it('random bytes, bad JSON, wrong types and huge bodies get 4xx and the server keeps answering', async () => {
    const rng = createRng(42);
    // Random bytes instead of HTTP.
    const garbage = await Promise.all(Array.from({ length: 30 }, () => raw(Buffer.from(Array.from({ length: rng.int(1, 400) }, () => rng.int(0, 255))))));
    for (const g of garbage) if (g !== '') expect(g).toMatch(/^HTTP\/1\.1 4\d\d/);
    // Broken JSON.
    const bad = ['{', '{"model":', 'null', '"text"', '[', '{"model": "tiny", "prompt": "a",}', '\u0000\u0001', 'undefined', '{"a":1}{"b":2}'];
    for (const body of bad) {
      const r = await fetch(`${serve.url}/v1/completions`, { method: 'POST', body });
      expect(r.status, body).toBeGreaterThanOrEqual(400);
      expect(r.status, body).toBeLessThan(500);
      expect(((await r.json()) as { error: { message: unknown } }).error.message).toBeTypeOf('string');
    }
    // Well-formed JSON with wrong types in every field.
    const values: unknown[] = [null, true, -1, 1e308, 0.5, '', 'x', [], [1], {}, { a: 1 }, 'x'.repeat(5_000), -0, 2 ** 53];
    const fields = ['model', 'prompt', 'n', 'max_tokens', 'temperature', 'top_p', 'top_k', 'stop', 'seed', 'stream', 'logprobs', 'stream_options', 'messages'];
    for (let i = 0; i < 120; i++) {
      const body: Record<string, unknown> = { model: MODEL, prompt: 'a', max_tokens: 2 };
      for (let k = 0; k < rng.int(1, 3); k++) body[fields[rng.int(0, fields.length - 1)]!] = values[rng.int(0, values.length - 1)];
      const route = rng.next() < 0.5 ? 'completions' : 'chat/completions';
      const r = await fetch(`${serve.url}/v1/${route}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
      expect(r.status, JSON.stringify(body).slice(0, 200)).toBeLessThan(500);
      await r.arrayBuffer();
    }
    // Huge bodies: declared too large, and too large with no declared length (chunked).
    const declared = await raw(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{"model":`);
    expect(declared).toMatch(/^HTTP\/1\.1 413/);
    const chunked = await fetch(`${serve.url}/v1/completions`, {
      method: 'POST', body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode('x'.repeat(4096)));
          c.close();
        },
      }), duplex: 'half',
    } as RequestInit).catch((e: unknown) => e);
    if (chunked instanceof Response) expect(chunked.status).toBe(413);
    // Oversized header block.
    const headers = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    if (headers !== '') expect(headers).toMatch(/^HTTP\/1\.1 4\d\d/);

    const health = await fetch(`${serve.url}/health`);
    expect(health.status).toBe(200);
    const r = await completion({ model: MODEL, prompt: 'still here', max_tokens: 3 });
    expect(r.status).toBe(200);
  }, 60_000);

  it('slow partial requests do not block other clients', async () => {
    const { port } = new URL(serve.url);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const s = connect(Number(port), '127.0.0.1');
        s.on('error', () => {});
        s.write(i % 2 === 0 ? 'POST /v1/completions HTTP/1.1\r\nHost: x\r\n' : 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"mo');
        sockets.push(s);
      }
      // Trickle a byte now and then, as a slowloris client does.
      for (let round = 0; round < 3; round++) {
        for (const s of sockets) if (!s.destroyed) s.write('X');
        const t0 = Date.now();
        const r = await completion({ model: MODEL, prompt: 'meanwhile', max_tokens: 3 });
        expect(r.status).toBe(200);
        expect(Date.now() - t0).toBeLessThan(5_000);
        await new Promise((res) => setTimeout(res, 300));
      }
    } finally {
      for (const s of sockets) s.destroy();
    }
    expect((await fetch(`${serve.url}/health`)).status).toBe(200);
  }, 30_000);
});
