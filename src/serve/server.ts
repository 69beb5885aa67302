/** `ceiling serve`: an embedded checkpoint behind the OpenAI HTTP API, on node:http (the routes
 * are few and fixed, so a framework would add weight without removing code).
 *
 * Routes: GET /health, GET /metrics, GET /v1/models[/ID], POST /v1/completions,
 * POST /v1/chat/completions, POST /v1/load_lora_adapter, POST /v1/unload_lora_adapter.
 * With an API key, every /v1 route needs `Authorization: Bearer KEY`; /health and /metrics stay
 * open, as in vLLM. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash, randomInt } from 'node:crypto';
import type { Backend } from '../engine/index.js';
import { Batcher, ShutdownError } from './batcher.js';
import { ApiError, badParam } from './errors.js';
import { readJsonBody, sendError, sendJson, sendText, startEvents, writeEvents } from './http.js';
import { Metrics } from './metrics.js';
import { ModelRegistry, type ServedModel } from './models.js';
import { type Limits, type SamplingRequest, parseChatRequest, parseCompletionRequest } from './requests.js';
import { requestId, responseBody, streamChunks, usageOf } from './responses.js';

export interface ServeOptions {
  checkpoint: string;
  /** Name clients use for the base model (default: the checkpoint path as given, like vLLM). */
  modelName?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  apiKey?: string;
  /** Extra checkpoints served from the start, name → directory. */
  adapters?: Readonly<Record<string, string>>;
  backend?: Backend;
  batchWindowMs?: number;
  maxBatchSequences?: number;
  decodeBatch?: number;
  /** Request body limit in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  limits?: Partial<Limits>;
  /** Most models served at once, base included (default 32). */
  maxModels?: number;
  /** A prompt longer than the context: drop its oldest characters (default, as the embedded
   * policy does) or answer 400. */
  truncatePrompt?: 'left' | 'error';
  /** Most open connections (default 1024); more are refused by the socket layer. */
  maxConnections?: number;
  /** Time allowed to send the request headers (default 10 s) and the whole request (default 60 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface ServeHandle {
  readonly url: string;
  readonly server: Server;
  readonly registry: ModelRegistry;
  readonly batcher: Batcher;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

const DEFAULT_LIMITS: Limits = { maxN: 128, maxTokens: 8192, maxPrompts: 256, maxSequences: 2048, maxStop: 16 };

function keyMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  // Compare digests so the comparison time does not depend on the key's length or content.
  const a = createHash('sha256').update(m[1]!.trim()).digest();
  const b = createHash('sha256').update(key).digest();
  return timingSafeEqual(a, b);
}

/** Loads the checkpoint and starts listening. Rejects with the load or listen error. */
export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const truncatePrompt = options.truncatePrompt ?? 'left';
  const baseName = options.modelName ?? options.checkpoint;
  const registry = new ModelRegistry(options.backend, options.maxModels ?? 32);
  registry.add(baseName, options.checkpoint, null);
  for (const [name, dir] of Object.entries(options.adapters ?? {})) registry.add(name, dir, baseName);
  const batcher = new Batcher({ windowMs: options.batchWindowMs, maxSequences: options.maxBatchSequences, decodeBatch: options.decodeBatch });
  const metrics = new Metrics();

  const sampleRoute = async (req: IncomingMessage, res: ServerResponse, kind: 'completion' | 'chat'): Promise<number> => {
    const body = await readJsonBody(req, maxBody);
    const parsed = kind === 'completion' ? parseCompletionRequest(body, limits) : parseChatRequest(body, limits);
    const served = registry.get(parsed.model);
    const tok = served.tokenizer;
    let promptTokens = 0;
    parsed.prompts.forEach((p, i) => {
      const len = tok.encode(p).length + 1;
      if (len > served.contextLength && truncatePrompt === 'error') {
        throw new ApiError(400, `Prompt ${i} needs ${len} tokens; the model's context length is ${served.contextLength}.`, 'invalid_request_error', kind === 'chat' ? 'messages' : 'prompt', 'context_length_exceeded');
      }
      promptTokens += Math.min(len, served.contextLength);
    });
    metrics.modelRequest(parsed.model);
    const maxTokens = Math.min(parsed.maxTokens ?? served.contextLength, served.contextLength);
    const id = requestId(kind === 'completion' ? 'cmpl' : 'chatcmpl');
    const created = Math.floor(Date.now() / 1000);
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) gone = true;
    });
    if (parsed.stream) startEvents(res);
    let results;
    try {
      results = await batcher.submit(served, parsed.prompts,
        { n: parsed.n, temperature: parsed.temperature, topP: parsed.topP, topK: parsed.topK, maxTokens, stop: parsed.stop, truncatePrompt },
        parsed.seed ?? randomInt(0, 2 ** 32), () => gone);
    } catch (err) {
      if (!parsed.stream) throw err instanceof ShutdownError ? new ApiError(503, err.message, 'server_error', null, 'unavailable') : err;
      const api = err instanceof ApiError ? err : new ApiError(500, `Internal server error: ${(err as Error).message}`, 'internal_error', null, 'internal_error');
      writeEvents(res, [api.body()], true);
      return api.status;
    }
    const usage = usageOf(promptTokens, results);
    if (parsed.stream) writeEvents(res, streamChunks(parsed, id, created, results, tok, usage), true);
    else sendJson(res, 200, responseBody(parsed, id, created, results, tok, usage));
    return 200;
  };

  const modelCard = (m: ServedModel) => ({
    id: m.name, object: 'model', created: m.created, owned_by: 'ceiling', root: m.dir, parent: m.parent, max_model_len: m.contextLength,
  });

  const loraRoute = async (req: IncomingMessage, res: ServerResponse, load: boolean): Promise<number> => {
    const body = await readJsonBody(req, maxBody);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
    const b = body as Record<string, unknown>;
    if (typeof b.lora_name !== 'string' || b.lora_name === '') throw badParam('lora_name', "'lora_name' must be a non-empty string.");
    if (load) {
      if (typeof b.lora_path !== 'string' || b.lora_path === '') throw badParam('lora_path', "'lora_path' must be a non-empty string.");
      registry.loadAdapter(b.lora_name, b.lora_path, baseName, b.load_inplace === true);
      sendText(res, 200, `Success: adapter '${b.lora_name}' loaded from ${b.lora_path}.`);
    } else {
      registry.unloadAdapter(b.lora_name);
      sendText(res, 200, `Success: adapter '${b.lora_name}' unloaded.`);
    }
    return 200;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<number> => {
    const method = req.method ?? 'GET';
    if (path === '/health' || path === '/v1/health') {
      if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, `Method ${method} is not allowed on ${path}.`, 'invalid_request_error', null, 'method_not_allowed');
      sendJson(res, 200, { status: 'ok' });
      return 200;
    }
    if (path === '/metrics') {
      sendText(res, 200, metrics.render(batcher.stats, batcher.pending, registry.list().length), 'text/plain; version=0.0.4; charset=utf-8');
      return 200;
    }
    if (!path.startsWith('/v1/')) throw new ApiError(404, `No route ${method} ${path}.`, 'invalid_request_error', null, 'unknown_url');
    if (options.apiKey && !keyMatches(req.headers.authorization, options.apiKey)) {
      throw new ApiError(401, 'Missing or wrong API key (send Authorization: Bearer KEY).', 'invalid_request_error', null, 'invalid_api_key');
    }
    const post = (fn: () => Promise<number>): Promise<number> => {
      if (method !== 'POST') throw new ApiError(405, `Method ${method} is not allowed on ${path}; use POST.`, 'invalid_request_error', null, 'method_not_allowed');
      return fn();
    };
    switch (path) {
      case '/v1/models':
        sendJson(res, 200, { object: 'list', data: registry.list().map(modelCard) });
        return 200;
      case '/v1/completions': return post(() => sampleRoute(req, res, 'completion'));
      case '/v1/chat/completions': return post(() => sampleRoute(req, res, 'chat'));
      case '/v1/load_lora_adapter': return post(() => loraRoute(req, res, true));
      case '/v1/unload_lora_adapter': return post(() => loraRoute(req, res, false));
      default:
        if (path.startsWith('/v1/models/')) {
          sendJson(res, 200, modelCard(registry.get(decodeURIComponent(path.slice('/v1/models/'.length)))));
          return 200;
        }
        throw new ApiError(404, `No route ${method} ${path}.`, 'invalid_request_error', null, 'unknown_url');
    }
  };

  const server = createServer({
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 60_000,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: 1_000,
  }, (req, res) => {
    res.on('error', () => {});
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      // An unparsable target falls through to a 404.
    }
    const label = path.startsWith('/v1/models/') ? '/v1/models/:id' : path;
    metrics.inFlight++;
    route(req, res, path).catch((err) => {
      const status = sendError(res, err);
      if (status === 413) req.resume();
      return status;
    }).then((status) => {
      metrics.inFlight--;
      metrics.request(knownRoute(label), status);
    });
  });
  server.maxConnections = options.maxConnections ?? 1024;
  // A client that asks first (`Expect: 100-continue`, as curl does for large bodies) is told 413
  // before it uploads an oversized body, instead of having the connection closed mid-upload.
  server.on('checkContinue', (req, res) => {
    if (!(Number(req.headers['content-length']) > maxBody)) res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify(new ApiError(status, `Bad HTTP request (${err.code ?? 'malformed'}).`, 'invalid_request_error', null, 'bad_request').body());
    socket.end(`HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    server, registry, batcher, metrics,
    close: () => new Promise<void>((resolve) => {
      batcher.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

const ROUTES = new Set(['/health', '/v1/health', '/metrics', '/v1/models', '/v1/models/:id', '/v1/completions', '/v1/chat/completions',
  '/v1/load_lora_adapter', '/v1/unload_lora_adapter']);

/** Route label for metrics; unknown paths share one label so random URLs cannot grow the map. */
function knownRoute(path: string): string {
  return ROUTES.has(path) ? path : 'other';
}
