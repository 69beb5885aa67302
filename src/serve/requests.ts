/** Validation of completion and chat requests into one normalised shape. Every wrong type or
 * out-of-range value is a 400 naming the field; unknown fields are ignored, as OpenAI-compatible
 * servers commonly do. */
import { ApiError, badParam } from './errors.js';

export interface Limits {
  /** Most choices per prompt. */
  maxN: number;
  /** Largest max_tokens accepted. */
  maxTokens: number;
  /** Most prompts in one completions request. */
  maxPrompts: number;
  /** Most sequences (prompts × n) in one request. */
  maxSequences: number;
  /** Most stop strings. */
  maxStop: number;
}

export interface SamplingRequest {
  kind: 'completion' | 'chat';
  model: string;
  prompts: string[];
  n: number;
  /** null: until the context is full (chat default). */
  maxTokens: number | null;
  temperature: number;
  topP: number;
  topK: number;
  stop: string[];
  seed: number | null;
  stream: boolean;
  includeUsage: boolean;
  /** Completions: number of alternatives asked for (0 = token logprobs only); null = none. Chat:
   * top_logprobs, or null when logprobs is false. */
  logprobs: number | null;
}

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function optional<T>(body: Json, key: string, check: (v: unknown) => T, fallback: T): T {
  const v = body[key];
  return v === undefined || v === null ? fallback : check(v);
}

const integer = (key: string, min: number, max: number) => (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badParam(key, `'${key}' must be an integer.`);
  if (v < min || v > max) throw badParam(key, `'${key}' must be between ${min} and ${max} (got ${v}).`);
  return v;
};

const number = (key: string, min: number, max: number, minExclusive = false) => (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badParam(key, `'${key}' must be a number.`);
  if (v > max || v < min || (minExclusive && v === min)) {
    throw badParam(key, `'${key}' must be in ${minExclusive ? '(' : '['}${min}, ${max}] (got ${v}).`);
  }
  return v;
};

const boolean = (key: string) => (v: unknown): boolean => {
  if (typeof v !== 'boolean') throw badParam(key, `'${key}' must be a boolean.`);
  return v;
};

function stops(v: unknown, max: number): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw badParam('stop', "'stop' must be a string or an array of strings.");
  if (list.length > max) throw badParam('stop', `'stop' may hold at most ${max} strings.`);
  return (list as string[]).filter((s) => s.length > 0);
}

function common(body: Json, limits: Limits): Omit<SamplingRequest, 'kind' | 'prompts' | 'maxTokens' | 'logprobs'> {
  const model = body.model;
  if (model === undefined || model === null) throw new ApiError(400, "The 'model' field is required.", 'invalid_request_error', 'model', 'missing_required_parameter');
  if (typeof model !== 'string' || model === '') throw badParam('model', "'model' must be a non-empty string.");
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) {
    throw badParam('stream_options', "'stream_options' must be an object.");
  }
  const seed = optional(body, 'seed', (v) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badParam('seed', "'seed' must be an integer.");
    return v >>> 0;
  }, null as number | null);
  const topK = optional(body, 'top_k', integer('top_k', -1, 1_000_000), 0);
  return {
    model,
    n: optional(body, 'n', integer('n', 1, limits.maxN), 1),
    temperature: optional(body, 'temperature', number('temperature', 0, 100), 1),
    topP: optional(body, 'top_p', number('top_p', 0, 1, true), 1),
    topK: topK < 0 ? 0 : topK,
    stop: optional(body, 'stop', (v) => stops(v, limits.maxStop), [] as string[]),
    seed,
    stream: optional(body, 'stream', boolean('stream'), false),
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
  };
}

function checkSize(req: SamplingRequest, limits: Limits): SamplingRequest {
  if (req.prompts.length * req.n > limits.maxSequences) {
    throw badParam(req.kind === 'chat' ? 'n' : 'prompt', `This request asks for ${req.prompts.length * req.n} sequences (prompts × n); the limit is ${limits.maxSequences}.`);
  }
  return req;
}

/** POST /v1/completions. `prompt` is a string or an array of strings (token-id prompts are refused:
 * the model reads characters). */
export function parseCompletionRequest(body: unknown, limits: Limits): SamplingRequest {
  if (!isObject(body)) throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
  const base = common(body, limits);
  const p = body.prompt;
  let prompts: string[];
  if (p === undefined || p === null) throw new ApiError(400, "The 'prompt' field is required.", 'invalid_request_error', 'prompt', 'missing_required_parameter');
  if (typeof p === 'string') prompts = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) prompts = p as string[];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number' || Array.isArray(x))) {
    throw badParam('prompt', "Token-id prompts are not supported by this server; send 'prompt' as text.");
  } else throw badParam('prompt', "'prompt' must be a string or a non-empty array of strings.");
  if (prompts.length > limits.maxPrompts) throw badParam('prompt', `At most ${limits.maxPrompts} prompts per request.`);
  if (body.echo === true) throw badParam('echo', "'echo' is not supported by this server.");
  if (body.suffix !== undefined && body.suffix !== null && body.suffix !== '') throw badParam('suffix', "'suffix' is not supported by this server.");
  const bestOf = body.best_of;
  if (bestOf !== undefined && bestOf !== null && bestOf !== base.n && bestOf !== 1) throw badParam('best_of', "'best_of' is not supported by this server.");
  return checkSize({
    ...base,
    kind: 'completion',
    prompts,
    maxTokens: optional(body, 'max_tokens', integer('max_tokens', 0, limits.maxTokens), 16),
    logprobs: optional(body, 'logprobs', integer('logprobs', 0, 20), null as number | null),
  }, limits);
}

/** The chat template of the character-level model: the prompt is the text of the last user
 * message; system messages and earlier turns are ignored, since the model was trained on single
 * prompts. Content may be a string or an array of text parts. */
export function chatPrompt(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) throw badParam('messages', "'messages' must be a non-empty array.");
  let prompt: string | null = null;
  messages.forEach((m, i) => {
    if (!isObject(m) || typeof m.role !== 'string') throw badParam(`messages[${i}]`, `messages[${i}] must be an object with a string 'role'.`);
    const text = contentText(m.content, i);
    if (m.role === 'user') prompt = text;
  });
  if (prompt === null) throw badParam('messages', "'messages' holds no message with role 'user'.");
  return prompt;
}

function contentText(content: unknown, i: number): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part, j) => {
      if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw badParam(`messages[${i}].content[${j}]`, `messages[${i}].content[${j}] must be a text part ({"type": "text", "text": "…"}).`);
      }
      return part.text;
    }).join('');
  }
  throw badParam(`messages[${i}].content`, `messages[${i}].content must be a string or an array of text parts.`);
}

/** POST /v1/chat/completions. */
export function parseChatRequest(body: unknown, limits: Limits): SamplingRequest {
  if (!isObject(body)) throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
  const base = common(body, limits);
  if (body.messages === undefined) throw new ApiError(400, "The 'messages' field is required.", 'invalid_request_error', 'messages', 'missing_required_parameter');
  const prompt = chatPrompt(body.messages);
  const maxCompletion = optional(body, 'max_completion_tokens', integer('max_completion_tokens', 0, limits.maxTokens), null as number | null);
  const logprobs = optional(body, 'logprobs', boolean('logprobs'), false);
  const top = optional(body, 'top_logprobs', integer('top_logprobs', 0, 20), 0);
  return checkSize({
    ...base,
    kind: 'chat',
    prompts: [prompt],
    maxTokens: maxCompletion ?? optional(body, 'max_tokens', integer('max_tokens', 0, limits.maxTokens), null as number | null),
    logprobs: logprobs ? top : null,
  }, limits);
}
