/** The OpenAI-compatible policy against scripted servers (retries, n fallback, replicas, limits)
 * and against a real `ceiling serve` in process. */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createOpenAIPolicy } from '../../src/policies/openai.js';
import { startServe } from '../../src/serve/server.js';
import { makeCheckpoint, tempDir } from '../serve/helpers.js';

interface Seen {
  path: string;
  body: Record<string, unknown>;
}

type Script = (req: Seen, res: ServerResponse, count: number) => void | Promise<void>;

interface Fake {
  url: string;
  seen: Seen[];
  maxInFlight: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function reply(req: Seen, res: ServerResponse, n = Number(req.body.n ?? 1), text = (i: number) => `${req.body.prompt ?? 'chat'}#${i}`): void {
  const chat = req.path.endsWith('/chat/completions');
  const choices = Array.from({ length: n }, (_, i) => chat
    ? { index: i, message: { role: 'assistant', content: text(i) }, finish_reason: 'stop', logprobs: null }
    : { index: i, text: text(i), finish_reason: 'stop', logprobs: null });
  const body = JSON.stringify({ id: 'x', object: chat ? 'chat.completion' : 'text_completion', created: 0, model: req.body.model, choices, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(body);
}

async function fake(script: Script): Promise<Fake> {
  const seen: Seen[] = [];
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (d) => {
      data += d;
    });
    req.on('end', async () => {
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const s: Seen = { path: req.url ?? '', body: JSON.parse(data || '{}') };
      seen.push(s);
      try {
        await script(s, res, seen.length);
      } finally {
        inFlight--;
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`, seen,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const opts = { n: 2, temperature: 1, maxTokens: 5, seed: 9 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('openai policy', () => {
  it('sends the sampling settings and returns n texts per prompt in order', async () => {
    const f = await fake((req, res) => reply(req, res));
    const policy = createOpenAIPolicy({ baseURL: f.url, model: 'm', stop: ['\n\n'], topP: 0.9 });
    const progress: number[] = [];
    const out = await policy.sample(['a', 'b', 'c'], { ...opts, onProgress: (d, t) => progress.push(d / t) });
    expect(out).toEqual([['a#0', 'a#1'], ['b#0', 'b#1'], ['c#0', 'c#1']]);
    expect(progress.at(-1)).toBe(1);
    expect(progress).toHaveLength(3);
    const b = f.seen[0]!.body;
    expect(b).toMatchObject({ model: 'm', n: 2, temperature: 1, max_tokens: 5, stop: ['\n\n'], top_p: 0.9 });
    expect(typeof b.seed).toBe('number');
    expect(new Set(f.seen.map((s) => s.body.seed)).size).toBe(3);
  });

  it('chat mode sends the prompt as one user message', async () => {
    const f = await fake((req, res) => reply(req, res, Number(req.body.n ?? 1), (i) => `${(req.body.messages as { content: string }[])[0]!.content}!${i}`));
    const out = await createOpenAIPolicy({ baseURL: f.url, model: 'm', api: 'chat' }).sample(['hi'], { ...opts, n: 1 });
    expect(out).toEqual([['hi!0']]);
    expect(f.seen[0]!.path).toBe('/v1/chat/completions');
    expect(f.seen[0]!.body.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(f.seen[0]!.body.n).toBeUndefined();
  });

  it('retries 429, 5xx and dropped connections with backoff, honouring Retry-After', async () => {
    const attempts = new Map<string, number>();
    const f = await fake((req, res) => {
      const k = String(req.body.prompt);
      const a = (attempts.get(k) ?? 0) + 1;
      attempts.set(k, a);
      if (a === 1) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'retry-after-ms': '20' });
        res.end('{"error":{"message":"slow down","type":"rate_limit","param":null,"code":null}}');
      } else if (a === 2) {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end('{"error":{"message":"busy","type":"server_error","param":null,"code":null}}');
      } else if (a === 3) {
        res.socket?.destroy();
      } else {
        reply(req, res);
      }
    });
    const policy = createOpenAIPolicy({ baseURL: f.url, model: 'm', backoffMs: 5, retries: 5 });
    const t0 = Date.now();
    const out = await policy.sample(['p', 'q'], opts);
    expect(out).toEqual([['p#0', 'p#1'], ['q#0', 'q#1']]);
    expect(policy.stats().retries).toBe(6);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20);
  });

  it('gives up after the retry budget, and does not retry 4xx', async () => {
    const f = await fake((_req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"error":{"message":"boom","type":"server_error","param":null,"code":null}}');
    });
    const p1 = createOpenAIPolicy({ baseURL: f.url, model: 'm', backoffMs: 1, retries: 2 });
    await expect(p1.sample(['a'], opts)).rejects.toThrow(/failed after 3 attempts.*boom/);
    expect(f.seen).toHaveLength(3);

    const g = await fake((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end('{"error":{"message":"The model m does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}');
    });
    const p2 = createOpenAIPolicy({ baseURL: g.url, model: 'm', backoffMs: 1 });
    await expect(p2.sample(['a', 'b', 'c'], opts)).rejects.toThrow(/does not exist/);
    expect(g.seen.length).toBeLessThanOrEqual(3);
  });

  it('falls back to one request per sample when the server ignores n (Ollama)', async () => {
    const f = await fake((req, res) => reply(req, res, 1, () => `${req.body.prompt}@${req.body.seed}`));
    const policy = createOpenAIPolicy({ baseURL: f.url, model: 'm', concurrency: 1 });
    const out = await policy.sample(['a', 'b'], { ...opts, n: 3 });
    expect(out.map((o) => o.length)).toEqual([3, 3]);
    expect(new Set(out.flat()).size).toBe(6);
    expect(policy.stats().nativeN).toBe(false);
    // Once a short answer was seen, requests no longer ask for n.
    const before = f.seen.length;
    const second = await policy.sample(['a', 'b'], { ...opts, n: 3 });
    expect(f.seen.slice(before).every((s) => s.body.n === undefined)).toBe(true);
    expect(f.seen.length - before).toBe(6);
    // One request per sample: seeds are a function of (seed, prompt, sample), as in separate mode.
    const separate = await createOpenAIPolicy({ baseURL: f.url, model: 'm', nMode: 'separate' }).sample(['a', 'b'], { ...opts, n: 3 });
    expect(separate).toEqual(second);
  });

  it('native mode reports a short answer; separate mode never sends n', async () => {
    const f = await fake((req, res) => reply(req, res, 1));
    await expect(createOpenAIPolicy({ baseURL: f.url, model: 'm', nMode: 'native' }).sample(['a'], opts)).rejects.toThrow(/answered 1 choices for n=2/);
    const before = f.seen.length;
    await createOpenAIPolicy({ baseURL: f.url, model: 'm', nMode: 'separate' }).sample(['a', 'b'], opts);
    expect(f.seen.slice(before).every((s) => s.body.n === undefined)).toBe(true);
    expect(f.seen.length - before).toBe(4);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const f = await fake(async (req, res) => {
      await sleep(15);
      reply(req, res);
    });
    await createOpenAIPolicy({ baseURL: f.url, model: 'm', concurrency: 3, nMode: 'separate' }).sample(['a', 'b', 'c', 'd', 'e'], opts);
    expect(f.seen).toHaveLength(10);
    expect(f.maxInFlight).toBe(3);
  });

  it('spreads requests over replicas and routes around a dead one', async () => {
    const slow = await fake(async (req, res) => {
      await sleep(40);
      reply(req, res);
    });
    const fast = await fake(async (req, res) => {
      await sleep(5);
      reply(req, res);
    });
    const prompts = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const least = createOpenAIPolicy({ baseURL: [slow.url, fast.url], model: 'm', concurrency: 4 });
    await least.sample(prompts, opts);
    // Least-outstanding sends more to the replica that answers faster.
    expect(fast.seen.length).toBeGreaterThan(slow.seen.length);
    const rr = createOpenAIPolicy({ baseURL: [slow.url, fast.url], model: 'm', concurrency: 4, balance: 'round-robin' });
    const s0 = slow.seen.length;
    const f0 = fast.seen.length;
    await rr.sample(prompts, opts);
    expect(Math.abs((slow.seen.length - s0) - (fast.seen.length - f0))).toBeLessThanOrEqual(2);

    const dead = await fake((req, res) => reply(req, res));
    const deadUrl = dead.url;
    await dead.close();
    const withDead = createOpenAIPolicy({ baseURL: [deadUrl, fast.url], model: 'm', backoffMs: 1 });
    const out = await withDead.sample(prompts.slice(0, 10), opts);
    expect(out.every((o) => o.length === 2)).toBe(true);
    const stats = withDead.stats();
    expect(stats.endpoints[0]!.failures).toBeGreaterThan(0);
    expect(stats.endpoints[1]!.requests).toBeGreaterThanOrEqual(10);
  });

  it('times out a stuck request and retries it', async () => {
    let first = true;
    const f = await fake(async (req, res) => {
      if (first) {
        first = false;
        await sleep(1_000);
      }
      reply(req, res);
    });
    const out = await createOpenAIPolicy({ baseURL: f.url, model: 'm', timeoutMs: 200, backoffMs: 1 }).sample(['a'], opts);
    expect(out).toEqual([['a#0', 'a#1']]);
  });
});

describe('openai policy against ceiling serve', () => {
  const tmp = tempDir('ceiling-policy-serve-');
  afterAll(() => tmp.remove());

  it('samples n completions per prompt; a lone request is reproducible', async () => {
    makeCheckpoint(join(tmp.dir, 'ck'));
    const serve = await startServe({ checkpoint: join(tmp.dir, 'ck'), modelName: 'tiny', port: 0 });
    try {
      const policy = createOpenAIPolicy({ baseURL: `${serve.url}/v1`, model: 'tiny', concurrency: 1 });
      const a = await policy.sample(['Evaluate 1+2\n', 'Evaluate 3*4\n'], { n: 4, temperature: 1, maxTokens: 12, seed: 3 });
      expect(a.map((x) => x.length)).toEqual([4, 4]);
      const b = await policy.sample(['Evaluate 1+2\n', 'Evaluate 3*4\n'], { n: 4, temperature: 1, maxTokens: 12, seed: 3 });
      expect(b).toEqual(a);
      const chat = await createOpenAIPolicy({ baseURL: `${serve.url}/v1`, model: 'tiny', api: 'chat', concurrency: 1 })
        .sample(['Evaluate 1+2\n'], { n: 1, temperature: 0, maxTokens: 12, seed: 0 });
      const plain = await policy.sample(['Evaluate 1+2\n'], { n: 1, temperature: 0, maxTokens: 12, seed: 0 });
      expect(chat).toEqual(plain);
    } finally {
      await serve.close();
    }
  });
});
