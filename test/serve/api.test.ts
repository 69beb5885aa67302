/** `ceiling serve` as a child process, driven by real clients: the `openai` npm package and curl. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { parseMetrics } from '../../src/serve/metrics.js';
import { ensureBuilt, makeCheckpoint, type ServeProcess, startServeProcess, tempDir } from './helpers.js';

const tmp = tempDir('ceiling-serve-api-');
let serve: ServeProcess;
let client: OpenAI;
const MODEL = 'tiny';

function curl(args: readonly string[]): { status: number; body: string } {
  const out = execFileSync('curl', ['-sS', '--max-time', '30', '-w', '\n%{http_code}', ...args], { encoding: 'utf8' });
  const at = out.lastIndexOf('\n');
  return { status: Number(out.slice(at + 1)), body: out.slice(0, at) };
}

beforeAll(async () => {
  await ensureBuilt();
  makeCheckpoint(join(tmp.dir, 'base'));
  makeCheckpoint(join(tmp.dir, 'other'), { seed: 7 });
  serve = await startServeProcess(['--checkpoint', join(tmp.dir, 'base'), '--model-name', MODEL, '--max-n', '16', '--max-tokens', '64']);
  client = new OpenAI({ baseURL: `${serve.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 240_000);

afterAll(async () => {
  const code = await serve?.stop();
  tmp.remove();
  expect(code).toBe(0);
});

describe('openai client', () => {
  it('lists models', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('completions with n, seed and logprobs', async () => {
    const r = await client.completions.create({ model: MODEL, prompt: 'Evaluate 2+3\n', max_tokens: 12, n: 3, seed: 5, temperature: 1, logprobs: 1 });
    expect(r.object).toBe('text_completion');
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const c of r.choices) {
      expect(c.text.length).toBeGreaterThan(0);
      expect(['stop', 'length']).toContain(c.finish_reason);
      expect(c.logprobs!.tokens!.join('')).toBe(c.text);
      expect(c.logprobs!.token_logprobs!.every((x) => x <= 0)).toBe(true);
    }
    expect(r.usage!.completion_tokens).toBe(r.choices.reduce((a, c) => a + c.logprobs!.tokens!.length, 0));
    // The same request alone is reproducible under its seed.
    const again = await client.completions.create({ model: MODEL, prompt: 'Evaluate 2+3\n', max_tokens: 12, n: 3, seed: 5, temperature: 1 });
    expect(again.choices.map((c) => c.text)).toEqual(r.choices.map((c) => c.text));
  });

  it('a list of prompts gets n choices each, in order', async () => {
    const r = await client.completions.create({ model: MODEL, prompt: ['a', 'b'], max_tokens: 4, n: 2, temperature: 0 });
    expect(r.choices).toHaveLength(4);
    // Greedy: the choices of one prompt agree.
    expect(r.choices[0]!.text).toBe(r.choices[1]!.text);
    expect(r.choices[2]!.text).toBe(r.choices[3]!.text);
  });

  it('stop strings end the text before them', async () => {
    const plain = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 30, temperature: 0 });
    const text = plain.choices[0]!.text;
    const stop = text.slice(5, 6);
    const cut = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 30, temperature: 0, stop: [stop] });
    expect(cut.choices[0]!.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0]!.finish_reason).toBe('stop');
  });

  it('chat completions use the last user message as the prompt', async () => {
    const messages = [{ role: 'system' as const, content: 'ignored' }, { role: 'user' as const, content: 'Evaluate 1+1\n' }];
    const chat = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0 });
    const plain = await client.completions.create({ model: MODEL, prompt: 'Evaluate 1+1\n', max_tokens: 10, temperature: 0 });
    expect(chat.object).toBe('chat.completion');
    expect(chat.choices[0]!.message.role).toBe('assistant');
    expect(chat.choices[0]!.message.content).toBe(plain.choices[0]!.text);
  });

  it('streams completions and chat as server-sent events', async () => {
    const stream = await client.completions.create({ model: MODEL, prompt: 'q', max_tokens: 8, n: 2, seed: 3, stream: true, stream_options: { include_usage: true } });
    const texts = ['', ''];
    const finish: (string | null)[] = [null, null];
    let usage = 0;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        texts[c.index] += c.text;
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    const whole = await client.completions.create({ model: MODEL, prompt: 'q', max_tokens: 8, n: 2, seed: 3 });
    expect(texts).toEqual(whole.choices.map((c) => c.text));
    expect(finish.every((f) => f !== null)).toBe(true);
    expect(usage).toBe(whole.usage!.completion_tokens);

    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'q' }], max_tokens: 8, seed: 3, stream: true });
    let content = '';
    let role = '';
    for await (const chunk of chat) {
      content += chunk.choices[0]?.delta.content ?? '';
      role ||= chunk.choices[0]?.delta.role ?? '';
    }
    expect(role).toBe('assistant');
    expect(content).toBe(whole.choices[0]!.text);
  });

  it('errors are OpenAI-shaped and typed by the client', async () => {
    await expect(client.completions.create({ model: 'nope', prompt: 'a' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.completions.create({ model: MODEL, prompt: 'a', n: 17 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.completions.create({ model: MODEL, prompt: 'a', max_tokens: 65 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const err = await client.completions.create({ model: MODEL, prompt: 'a', temperature: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
  });

  it('concurrent requests are decoded in shared batches', async () => {
    const before = parseMetrics(await (await fetch(`${serve.url}/metrics`)).text());
    await Promise.all(Array.from({ length: 24 }, (_, i) => client.completions.create({ model: MODEL, prompt: `p${i}`, max_tokens: 6, n: 2 })));
    const after = parseMetrics(await (await fetch(`${serve.url}/metrics`)).text());
    const batches = after.get('ceiling_batches_total')! - before.get('ceiling_batches_total')!;
    const requests = after.get('ceiling_batched_requests_total')! - before.get('ceiling_batched_requests_total')!;
    expect(requests).toBe(24);
    expect(batches).toBeLessThan(24);
  });
});

describe('curl', () => {
  it('completions, chat, models and streaming', () => {
    const c = curl([`${serve.url}/v1/completions`, '-H', 'Content-Type: application/json', '-d', JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 5, n: 2 })]);
    expect(c.status).toBe(200);
    expect(JSON.parse(c.body).choices).toHaveLength(2);
    const chat = curl([`${serve.url}/v1/chat/completions`, '-d', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 5 })]);
    expect(chat.status).toBe(200);
    expect(typeof JSON.parse(chat.body).choices[0].message.content).toBe('string');
    const models = curl([`${serve.url}/v1/models`]);
    expect(JSON.parse(models.body).data[0].id).toBe(MODEL);
    const stream = curl(['-N', `${serve.url}/v1/completions`, '-d', JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 3, stream: true })]);
    expect(stream.status).toBe(200);
    const events = stream.body.split('\n\n').filter((e) => e.trim() !== '');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[0]!.slice(6)).object).toBe('text_completion');
  });

  it('bad requests get 4xx with an error object', () => {
    const cases: [string[], number, string | null][] = [
      [[`${serve.url}/v1/completions`, '-d', '{"model": "tiny", "prompt": '], 400, 'invalid_json'],
      [[`${serve.url}/v1/completions`, '-d', '[1,2]'], 400, 'invalid_body'],
      [[`${serve.url}/v1/completions`, '-d', '{"prompt": "a"}'], 400, 'missing_required_parameter'],
      [[`${serve.url}/v1/completions`, '-d', '{"model": "tiny", "prompt": [1, 2]}'], 400, 'invalid_value'],
      [[`${serve.url}/v1/completions`, '-d', '{"model": "tiny", "prompt": "a", "stop": 3}'], 400, 'invalid_value'],
      [[`${serve.url}/v1/completions`], 405, 'method_not_allowed'],
      [[`${serve.url}/v1/nothing`], 404, 'unknown_url'],
      [[`${serve.url}/v1/chat/completions`, '-d', '{"model": "gone", "messages": [{"role": "user", "content": "a"}]}'], 404, 'model_not_found'],
    ];
    for (const [args, status, code] of cases) {
      const r = curl(args);
      expect(r.status, args.join(' ')).toBe(status);
      const body = JSON.parse(r.body);
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(body.error.code).toBe(code);
    }
    const bigFile = join(tmp.dir, 'big.json');
    writeFileSync(bigFile, `{"model":"tiny","prompt":"${'x'.repeat(1_100_000)}"}`);
    const big = curl([`${serve.url}/v1/completions`, '-H', 'Content-Type: application/json', '--data-binary', `@${bigFile}`]);
    expect(big.status).toBe(413);
  });

  it('loads and unloads a checkpoint under a new model name', () => {
    const load = curl([`${serve.url}/v1/load_lora_adapter`, '-d', JSON.stringify({ lora_name: 'round-1', lora_path: join(tmp.dir, 'other') })]);
    expect(load.status).toBe(200);
    const again = curl([`${serve.url}/v1/load_lora_adapter`, '-d', JSON.stringify({ lora_name: 'round-1', lora_path: join(tmp.dir, 'other') })]);
    expect(again.status).toBe(400);
    const missing = curl([`${serve.url}/v1/load_lora_adapter`, '-d', JSON.stringify({ lora_name: 'x', lora_path: join(tmp.dir, 'none') })]);
    expect(missing.status).toBe(404);
    const models = JSON.parse(curl([`${serve.url}/v1/models`]).body).data;
    expect(models.map((m: { id: string }) => m.id)).toEqual([MODEL, 'round-1']);
    expect(models[1].parent).toBe(MODEL);
    const a = JSON.parse(curl([`${serve.url}/v1/completions`, '-d', JSON.stringify({ model: 'round-1', prompt: 'z', max_tokens: 16, temperature: 0 })]).body);
    const b = JSON.parse(curl([`${serve.url}/v1/completions`, '-d', JSON.stringify({ model: MODEL, prompt: 'z', max_tokens: 16, temperature: 0 })]).body);
    expect(a.model).toBe('round-1');
    expect(a.choices[0].text).not.toBe(b.choices[0].text);
    expect(curl([`${serve.url}/v1/unload_lora_adapter`, '-d', '{"lora_name": "round-1"}']).status).toBe(200);
    expect(curl([`${serve.url}/v1/unload_lora_adapter`, '-d', '{"lora_name": "round-1"}']).status).toBe(404);
    expect(curl([`${serve.url}/v1/unload_lora_adapter`, '-d', `{"lora_name": "${MODEL}"}`]).status).toBe(400);
  });
});

describe('api key', () => {
  it('401 without the key on /v1, open /health', async () => {
    const keyed = await startServeProcess(['--checkpoint', join(tmp.dir, 'base'), '--model-name', MODEL], { CEILING_API_KEY: 's3cret' });
    try {
      const no = curl([`${keyed.url}/v1/models`]);
      expect(no.status).toBe(401);
      expect(JSON.parse(no.body).error.code).toBe('invalid_api_key');
      expect(curl([`${keyed.url}/v1/models`, '-H', 'Authorization: Bearer wrong']).status).toBe(401);
      expect(curl([`${keyed.url}/health`]).status).toBe(200);
      const ok = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 's3cret', maxRetries: 0 });
      const r = await ok.completions.create({ model: MODEL, prompt: 'a', max_tokens: 2 });
      expect(r.choices).toHaveLength(1);
      await expect(new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 'bad', maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    } finally {
      expect(await keyed.stop()).toBe(0);
    }
  });

  it('a bad checkpoint or a taken port is one line on stderr, exit 2', async () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/ceiling.js'), 'serve', '--checkpoint', join(tmp.dir, 'none'), '--port', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such directory/);
    const port = new URL(serve.url).port;
    const busy = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/ceiling.js'), 'serve', '--checkpoint', join(tmp.dir, 'base'), '--port', port], { encoding: 'utf8' });
    expect(busy.status).toBe(2);
    expect(busy.stderr).toMatch(/EADDRINUSE/);
  });
});
