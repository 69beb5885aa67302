/** A policy that samples through OpenAI-compatible servers (vLLM, llama-server, Ollama, SGLang,
 * `ceiling serve`) with the official `openai` client.
 *
 * - One request per prompt with `n` choices. Servers without `n` (Ollama) answer with one choice:
 *   in `auto` mode the missing choices are requested one by one and later prompts go straight to
 *   one request per sample; `separate` always does that, `native` treats a short answer as an error.
 * - Requests are spread over one or more base URLs (replicas): to the one with the fewest
 *   outstanding requests, or round robin. At most `concurrency` requests are in flight overall.
 * - 408/409/429/5xx answers and network errors are retried with exponential backoff and full
 *   jitter (honouring Retry-After), on another replica when there is one. Other errors fail the
 *   whole call at once and cancel the requests still in flight.
 * - Seeds: prompt i gets seed mix(seed, i); with one request per sample, sample j gets mix(seed, i, j). */
import { setMaxListeners } from 'node:events';
import OpenAI from 'openai';
import type { Policy, SampleOptions } from './types.js';

export interface OpenAIPolicyOptions {
  /** Base URL(s) ending in `/v1`, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string | readonly string[];
  /** Model (or adapter) name sent as `model`. */
  model: string;
  /** Sent as `Authorization: Bearer …` (default "EMPTY": the client needs some value). */
  apiKey?: string;
  /** `/v1/completions` (default, raw prompt) or `/v1/chat/completions` (the server applies its chat
   * template to one user message). */
  api?: 'completions' | 'chat';
  /** Most requests in flight at once, over all base URLs (default 32). */
  concurrency?: number;
  /** Per request, in ms (default 10 minutes). */
  timeoutMs?: number;
  /** Retries of one request after the first attempt (default 6). */
  retries?: number;
  /** First backoff delay in ms (default 250); doubles per retry up to `maxBackoffMs` (default 20 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  nMode?: 'auto' | 'native' | 'separate';
  balance?: 'least-outstanding' | 'round-robin';
  stop?: readonly string[];
  topP?: number;
  /** Extra body fields passed through (e.g. vLLM's `top_k`, llama-server's `lora`). */
  extraBody?: Record<string, unknown>;
  /** Label for reports (default: model @ first URL). */
  name?: string;
}

export interface EndpointStats {
  url: string;
  requests: number;
  failures: number;
  outstanding: number;
}

export interface OpenAIPolicyStats {
  requests: number;
  retries: number;
  /** false once the server was seen answering fewer choices than `n`. */
  nativeN: boolean;
  endpoints: EndpointStats[];
}

export interface OpenAIPolicy extends Policy {
  stats(): OpenAIPolicyStats;
}

interface Endpoint extends EndpointStats {
  client: OpenAI;
  downUntil: number;
}

const RETRY_STATUS = new Set([408, 409, 425, 429]);

export function mixSeed(seed: number, i: number, j = -1): number {
  let h = Math.imul((seed >>> 0) ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ (i + 1), 0x85ebca6b);
  if (j >= 0) h = Math.imul(h ^ (h >>> 13) ^ (j + 1), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A counting semaphore whose waiters can be cancelled. */
class Limiter {
  private active = 0;
  private readonly waiting: { go: () => void; fail: (e: unknown) => void }[] = [];
  constructor(private readonly max: number) {}

  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        go: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: reject,
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next.go();
    else this.active--;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function retryable(err: unknown): boolean {
  if (err instanceof OpenAI.APIUserAbortError) return false;
  if (err instanceof OpenAI.APIConnectionError) return true;
  if (err instanceof OpenAI.APIError) return err.status === undefined || RETRY_STATUS.has(err.status) || err.status >= 500;
  return false;
}

/** Retry-After (seconds or HTTP date) or retry-after-ms, when the server sent one. */
function retryAfterMs(err: unknown): number | null {
  if (!(err instanceof OpenAI.APIError) || !err.headers) return null;
  const ms = Number(err.headers.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && err.headers.get('retry-after-ms') !== null) return ms;
  const ra = err.headers.get('retry-after');
  if (ra === null) return null;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : null;
}

export class PolicyRequestError extends Error {
  constructor(message: string, readonly status: number | undefined) {
    super(message);
    this.name = 'PolicyRequestError';
  }
}

export function createOpenAIPolicy(options: OpenAIPolicyOptions): OpenAIPolicy {
  const urls = (typeof options.baseURL === 'string' ? [options.baseURL] : [...options.baseURL]).map((u) => u.replace(/\/+$/, ''));
  if (urls.length === 0) throw new Error('openai policy: at least one base URL is needed');
  const api = options.api ?? 'completions';
  const retries = options.retries ?? 6;
  const backoff = options.backoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 20_000;
  const nMode = options.nMode ?? 'auto';
  const balance = options.balance ?? 'least-outstanding';
  const concurrency = options.concurrency ?? 32;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`openai policy: concurrency must be a positive integer (got ${concurrency})`);
  const endpoints: Endpoint[] = urls.map((url) => ({
    url, requests: 0, failures: 0, outstanding: 0, downUntil: 0,
    client: new OpenAI({ baseURL: url, apiKey: options.apiKey ?? 'EMPTY', maxRetries: 0, timeout: options.timeoutMs ?? 600_000 }),
  }));
  const limiter = new Limiter(concurrency);
  const totals = { requests: 0, retries: 0 };
  let nativeN = nMode !== 'separate';
  let turn = 0;

  /** The endpoint for the next request; `avoid` (the one that just failed) only if alone. */
  const pick = (avoid?: Endpoint): Endpoint => {
    const now = Date.now();
    let pool = endpoints.filter((e) => e !== avoid && e.downUntil <= now);
    if (pool.length === 0) pool = endpoints.filter((e) => e !== avoid);
    if (pool.length === 0) pool = endpoints;
    turn = (turn + 1) % endpoints.length;
    if (balance === 'round-robin') {
      for (let k = 0; k < endpoints.length; k++) {
        const e = endpoints[(turn + k) % endpoints.length]!;
        if (pool.includes(e)) return e;
      }
    }
    // Fewest outstanding; ties go round robin so equal replicas share the work.
    let best = pool[0]!;
    let bestRank = Infinity;
    for (const e of pool) {
      const rank = e.outstanding * endpoints.length + ((endpoints.indexOf(e) - turn + endpoints.length) % endpoints.length);
      if (rank < bestRank) {
        best = e;
        bestRank = rank;
      }
    }
    return best;
  };

  const send = async (e: Endpoint, prompt: string, n: number, seed: number, o: SampleOptions, signal: AbortSignal): Promise<string[]> => {
    const common: Record<string, unknown> = {
      model: options.model, temperature: o.temperature, max_tokens: o.maxTokens, seed,
      ...(n > 1 ? { n } : {}),
      ...(options.stop && options.stop.length > 0 ? { stop: [...options.stop] } : {}),
      ...(options.topP !== undefined ? { top_p: options.topP } : {}),
      ...options.extraBody,
    };
    if (api === 'chat') {
      const r = await e.client.chat.completions.create(
        { ...common, messages: [{ role: 'user', content: prompt }] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal });
      return [...r.choices].sort((a, b) => a.index - b.index).map((c) => c.message?.content ?? '');
    }
    const r = await e.client.completions.create({ ...common, prompt } as unknown as OpenAI.CompletionCreateParamsNonStreaming, { signal });
    return [...r.choices].sort((a, b) => a.index - b.index).map((c) => c.text ?? '');
  };

  /** One HTTP request with retries; resolves to the choices' texts. */
  const request = async (prompt: string, n: number, seed: number, o: SampleOptions, signal: AbortSignal): Promise<string[]> => {
    let failed: Endpoint | undefined;
    for (let attempt = 0; ; attempt++) {
      await limiter.acquire(signal);
      const e = pick(failed);
      e.outstanding++;
      e.requests++;
      totals.requests++;
      let wait = -1;
      try {
        return await send(e, prompt, n, seed, o, signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        e.failures++;
        if (!retryable(err) || attempt >= retries) {
          const status = err instanceof OpenAI.APIError ? err.status : undefined;
          const what = retryable(err) ? `failed after ${attempt + 1} attempts` : 'failed';
          throw new PolicyRequestError(`${e.url}: request for model '${options.model}' ${what}: ${(err as Error).message}`, status);
        }
        const exp = Math.min(maxBackoff, backoff * 2 ** attempt);
        wait = Math.min(maxBackoff, Math.max(retryAfterMs(err) ?? 0, Math.random() * exp));
        e.downUntil = Date.now() + Math.max(wait, backoff);
        failed = e;
        totals.retries++;
      } finally {
        e.outstanding--;
        limiter.release();
      }
      if (wait >= 0) await sleep(wait, signal);
    }
  };

  const policy: OpenAIPolicy = {
    name: options.name ?? `${options.model} @ ${urls[0]}${urls.length > 1 ? ` (+${urls.length - 1})` : ''}`,

    async sample(prompts, o) {
      const controller = new AbortController();
      const signal = controller.signal;
      // One listener per request in flight or waiting; they live as long as this call.
      setMaxListeners(0, signal);
      let done = 0;
      const one = async (prompt: string, i: number): Promise<string[]> => {
        const n = o.n;
        let texts: string[];
        if (nativeN && n > 1) {
          texts = await request(prompt, n, mixSeed(o.seed, i), o, signal);
          if (texts.length < n) {
            if (nMode === 'native') throw new PolicyRequestError(`model '${options.model}' answered ${texts.length} choices for n=${n}`, undefined);
            nativeN = false;
            const rest = await Promise.all(Array.from({ length: n - texts.length }, (_, k) =>
              request(prompt, 1, mixSeed(o.seed, i, texts.length + k), o, signal)));
            texts = [...texts, ...rest.map((r) => r[0] ?? '')];
          }
          texts = texts.slice(0, n);
        } else if (n === 1) {
          texts = [(await request(prompt, 1, mixSeed(o.seed, i), o, signal))[0] ?? ''];
        } else {
          const each = await Promise.all(Array.from({ length: n }, (_, j) => request(prompt, 1, mixSeed(o.seed, i, j), o, signal)));
          texts = each.map((r) => r[0] ?? '');
        }
        done++;
        o.onProgress?.(done, prompts.length);
        return texts;
      };
      try {
        return await Promise.all(prompts.map((p, i) => one(p, i)));
      } catch (err) {
        controller.abort(err);
        throw err;
      }
    },

    stats: () => ({
      ...totals, nativeN,
      endpoints: endpoints.map(({ url, requests, failures, outstanding }) => ({ url, requests, failures, outstanding })),
    }),
  };
  return policy;
}
