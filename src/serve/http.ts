/** Small node:http helpers: a bounded JSON body reader and JSON / server-sent-event writers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';

/** Reads the request body as JSON. Oversized bodies are refused as soon as the declared or received
 * length passes `limit` (413), so a huge upload never gets buffered. */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(tooLarge(limit));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: ApiError): void => {
      if (done) return;
      done = true;
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        fail(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        reject(new ApiError(400, 'The request body is empty; expected a JSON object.', 'invalid_request_error', null, 'invalid_json'));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new ApiError(400, `The request body is not valid JSON (${(err as Error).message}).`, 'invalid_request_error', null, 'invalid_json'));
      }
    });
    req.on('error', () => fail(new ApiError(400, 'The request body could not be read.', 'invalid_request_error', null, 'bad_body')));
    req.on('aborted', () => fail(new ApiError(400, 'The client aborted the request.', 'invalid_request_error', null, 'aborted')));
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, `The request body is larger than the limit of ${limit} bytes.`, 'invalid_request_error', null, 'request_too_large');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends an ApiError (or a 500 for anything else). A refused upload also closes the connection,
 * since the rest of its body is not read. */
export function sendError(res: ServerResponse, err: unknown): number {
  const api = err instanceof ApiError
    ? err
    : new ApiError(500, `Internal server error: ${err instanceof Error ? err.message : String(err)}`, 'internal_error', null, 'internal_error');
  sendJson(res, api.status, api.body(), api.status === 413 ? { Connection: 'close' } : {});
  return api.status;
}

/** Starts a server-sent-event response. */
export function startEvents(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
}

/** One `data:` event per object, then `data: [DONE]` when `done`. */
export function writeEvents(res: ServerResponse, events: readonly unknown[], done: boolean): void {
  if (res.destroyed || res.writableEnded) return;
  let out = '';
  for (const e of events) out += `data: ${JSON.stringify(e)}\n\n`;
  if (done) out += 'data: [DONE]\n\n';
  if (done) res.end(out);
  else res.write(out);
}
