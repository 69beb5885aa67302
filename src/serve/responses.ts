/** Response bodies in the OpenAI shapes, whole or as stream chunks. Token logprobs come from the
 * engine for free; the alternatives OpenAI lists in `top_logprobs` would need every logit, so the
 * list holds the sampled token only. */
import { randomBytes } from 'node:crypto';
import type { CharTokenizer, Completion } from '../engine/index.js';
import type { SamplingRequest } from './requests.js';

export const finishReason = (c: Completion): 'stop' | 'length' => (c.finishReason === 'length' ? 'length' : 'stop');

export const requestId = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`;

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(promptTokens: number, results: Completion[][]): Usage {
  let completion = 0;
  for (const list of results) for (const c of list) completion += c.tokens.length;
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

function completionLogprobs(c: Completion, tok: CharTokenizer) {
  const tokens = c.tokens.map((t) => tok.piece(t));
  const offsets: number[] = [];
  let at = 0;
  for (const t of tokens) {
    offsets.push(at);
    at += t.length;
  }
  return {
    tokens,
    token_logprobs: c.logprobs,
    top_logprobs: tokens.map((t, i) => ({ [t]: c.logprobs[i]! })),
    text_offset: offsets,
  };
}

function chatLogprobs(c: Completion, tok: CharTokenizer) {
  return {
    content: c.tokens.map((t, i) => {
      const piece = tok.piece(t);
      const logprob = c.logprobs[i]!;
      return { token: piece, logprob, bytes: [...Buffer.from(piece, 'utf8')], top_logprobs: [{ token: piece, logprob, bytes: [...Buffer.from(piece, 'utf8')] }] };
    }),
  };
}

/** The full (non-streamed) body. Choices are ordered prompt by prompt, n per prompt. */
export function responseBody(req: SamplingRequest, id: string, created: number, results: Completion[][], tok: CharTokenizer, usage: Usage) {
  const choices = results.flatMap((list, p) => list.map((c, j) => {
    const index = p * req.n + j;
    if (req.kind === 'completion') {
      return { index, text: c.text, logprobs: req.logprobs === null ? null : completionLogprobs(c, tok), finish_reason: finishReason(c) };
    }
    return {
      index, message: { role: 'assistant', content: c.text },
      logprobs: req.logprobs === null ? null : chatLogprobs(c, tok), finish_reason: finishReason(c),
    };
  }));
  return {
    id, object: req.kind === 'completion' ? 'text_completion' : 'chat.completion', created, model: req.model,
    choices, usage,
  };
}

/** The stream: per choice, one chunk per generated token, then a chunk with its finish reason;
 * then an optional usage chunk. (The engine decodes a batch to the end before returning, so the
 * chunks leave together once the batch is done.) */
export function streamChunks(req: SamplingRequest, id: string, created: number, results: Completion[][], tok: CharTokenizer, usage: Usage): unknown[] {
  const object = req.kind === 'completion' ? 'text_completion' : 'chat.completion.chunk';
  const chunk = (choice: Record<string, unknown>) => ({ id, object, created, model: req.model, choices: [choice] });
  const out: unknown[] = [];
  results.forEach((list, p) => list.forEach((c, j) => {
    const index = p * req.n + j;
    if (req.kind === 'chat') out.push(chunk({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }));
    let streamed = '';
    c.tokens.forEach((t, i) => {
      const piece = tok.piece(t);
      streamed += piece;
      if (req.kind === 'completion') {
        const logprobs = req.logprobs === null ? null
          : { tokens: [piece], token_logprobs: [c.logprobs[i]!], top_logprobs: [{ [piece]: c.logprobs[i]! }], text_offset: [0] };
        out.push(chunk({ index, text: piece, logprobs, finish_reason: null }));
      } else {
        const logprobs = req.logprobs === null ? null
          : { content: [{ token: piece, logprob: c.logprobs[i]!, bytes: [...Buffer.from(piece, 'utf8')], top_logprobs: [] }] };
        out.push(chunk({ index, delta: { content: piece }, logprobs, finish_reason: null }));
      }
    });
    // A stop string cut inside a multi-character piece leaves text beyond the kept tokens.
    if (streamed !== c.text && c.text.startsWith(streamed)) {
      const rest = c.text.slice(streamed.length);
      out.push(req.kind === 'completion'
        ? chunk({ index, text: rest, logprobs: null, finish_reason: null })
        : chunk({ index, delta: { content: rest }, logprobs: null, finish_reason: null }));
    }
    out.push(req.kind === 'completion'
      ? chunk({ index, text: '', logprobs: null, finish_reason: finishReason(c) })
      : chunk({ index, delta: {}, logprobs: null, finish_reason: finishReason(c) }));
  }));
  if (req.includeUsage) out.push({ id, object, created, model: req.model, choices: [], usage });
  return out;
}
