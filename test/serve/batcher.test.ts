/** The batcher and request validation, in process. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Batcher, type SamplingSettings } from '../../src/serve/batcher.js';
import { ModelRegistry } from '../../src/serve/models.js';
import { ApiError } from '../../src/serve/errors.js';
import { chatPrompt, parseChatRequest, parseCompletionRequest } from '../../src/serve/requests.js';
import { makeCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir('ceiling-batcher-');
afterAll(() => tmp.remove());

const settings: SamplingSettings = { n: 2, temperature: 1, topP: 1, topK: 0, maxTokens: 6, stop: [], truncatePrompt: 'left' };

describe('batcher', () => {
  it('decodes requests with the same settings together, others apart', async () => {
    const registry = new ModelRegistry(undefined, 4);
    const model = registry.add('m', makeCheckpoint(join(tmp.dir, 'a')), null);
    const batcher = new Batcher({ windowMs: 20 });
    const same = Array.from({ length: 6 }, (_, i) => batcher.submit(model, [`p${i}`], settings, i));
    const other = batcher.submit(model, ['q'], { ...settings, maxTokens: 3 }, 1);
    const results = await Promise.all([...same, other]);
    expect(results.map((r) => r.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(results.every((r) => r[0]!.length === 2)).toBe(true);
    expect(results[6]![0]!.every((c) => c.tokens.length <= 3)).toBe(true);
    expect(batcher.stats.batches).toBe(2);
    expect(batcher.stats.requests).toBe(7);
  });

  it('a request alone is reproducible under its seed; cancelled requests cost nothing', async () => {
    const registry = new ModelRegistry(undefined, 4);
    const model = registry.add('m', makeCheckpoint(join(tmp.dir, 'b')), null);
    const batcher = new Batcher({ windowMs: 1 });
    const a = await batcher.submit(model, ['x'], settings, 42);
    const b = await batcher.submit(model, ['x'], settings, 42);
    expect(b.map((l) => l.map((c) => c.text))).toEqual(a.map((l) => l.map((c) => c.text)));
    await expect(batcher.submit(model, ['y'], settings, 1, () => true)).rejects.toThrow(/client disconnected/);
    expect(batcher.stats.skipped).toBe(1);
    batcher.close();
    await expect(batcher.submit(model, ['z'], settings, 1)).rejects.toThrow(/shutting down/);
  });
});

describe('request validation', () => {
  const limits = { maxN: 4, maxTokens: 100, maxPrompts: 3, maxSequences: 6, maxStop: 2 };
  const param = (fn: () => unknown): string | null => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      return (err as ApiError).param;
    }
    return 'no error';
  };

  it('normalises a completion request', () => {
    const r = parseCompletionRequest({ model: 'm', prompt: ['a', 'b'], n: 3, stop: '\n', seed: -1, top_k: -1, logprobs: 2, unknown: 1 }, limits);
    expect(r).toMatchObject({ kind: 'completion', prompts: ['a', 'b'], n: 3, stop: ['\n'], seed: 2 ** 32 - 1, topK: 0, maxTokens: 16, logprobs: 2 });
  });

  it('names the offending field', () => {
    expect(param(() => parseCompletionRequest({ prompt: 'a' }, limits))).toBe('model');
    expect(param(() => parseCompletionRequest({ model: 'm' }, limits))).toBe('prompt');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'a', n: 5 }, limits))).toBe('n');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: ['a', 'b'], n: 4 }, limits))).toBe('prompt');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: ['a', 'b', 'c', 'd'] }, limits))).toBe('prompt');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'a', max_tokens: 1.5 }, limits))).toBe('max_tokens');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'a', top_p: 0 }, limits))).toBe('top_p');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'a', stop: ['a', 'b', 'c'] }, limits))).toBe('stop');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'a', stream: 'yes' }, limits))).toBe('stream');
    expect(param(() => parseCompletionRequest({ model: 'm', prompt: 'a', echo: true }, limits))).toBe('echo');
    expect(param(() => parseChatRequest({ model: 'm' }, limits))).toBe('messages');
    expect(param(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 3 }] }, limits))).toBe('messages[0].content');
    expect(param(() => parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'a' }], logprobs: 1 }, limits))).toBe('logprobs');
  });

  it('the chat template takes the last user message', () => {
    expect(chatPrompt([{ role: 'system', content: 's' }, { role: 'user', content: 'first' }, { role: 'assistant', content: 'x' }, { role: 'user', content: [{ type: 'text', text: 'la' }, { type: 'text', text: 'st' }] }])).toBe('last');
    const r = parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'q' }], max_completion_tokens: 7, logprobs: true, top_logprobs: 2 }, limits);
    expect(r).toMatchObject({ kind: 'chat', prompts: ['q'], maxTokens: 7, logprobs: 2 });
  });
});
