/** The dashboard's HTTP server (node:http): the page, its prebuilt assets, and the JSON API. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handleApi, RunReader, type ApiResponse, type RunInfo } from './api.js';
import { pageHtml } from './page-html.js';
import type { SnapshotOptions } from './snapshot.js';

/** Where `npm run build` puts the page bundle, next to the compiled server. */
export const DEFAULT_ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));
export const ASSET_FILES = ['app.js', 'app.css'] as const;

export interface DashboardOptions {
  dirs: readonly string[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  assetsDir?: string;
  /** How often the page polls, in milliseconds. */
  pollMs?: number;
  snapshot?: SnapshotOptions;
  /** Called when a run's status changes (a run starts, finishes reading as damaged, …). */
  onStatus?: (info: RunInfo, previous: RunInfo['status'] | null) => void;
}

export interface Dashboard {
  url: string;
  port: number;
  /** Asset files the build should have produced but did not. */
  missingAssets: string[];
  /** What every directory holds right now. */
  runs(): Promise<RunInfo[]>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(req: IncomingMessage, res: ServerResponse, r: ApiResponse): void {
  if (r.etag && req.headers['if-none-match'] === r.etag) {
    res.writeHead(304, { ETag: r.etag, 'Cache-Control': 'no-cache' });
    res.end();
    return;
  }
  send(res, r.status, 'application/json; charset=utf-8', JSON.stringify(r.body), r.etag ? { ETag: r.etag } : {});
}

/** A page served on a loopback address answers only to loopback host names, so another web site
 * cannot reach it through a DNS name that resolves to 127.0.0.1. */
function hostAllowed(req: IncomingMessage, bound: string): boolean {
  if (!LOOPBACK.has(bound)) return true;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return LOOPBACK.has(host);
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const assetsDir = resolve(options.assetsDir ?? DEFAULT_ASSETS);
  const missingAssets = ASSET_FILES.filter((f) => !existsSync(join(assetsDir, f))).map((f) => join(assetsDir, f));
  const tmp = mkdtempSync(join(tmpdir(), 'ceiling-dashboard-'));
  const reader = new RunReader(options.dirs.map((d) => resolve(d)), tmp, options.snapshot, options.onStatus);
  const html = pageHtml({ pollMs: options.pollMs ?? 2000, missingAssets });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (!hostAllowed(req, host)) return sendJson(req, res, { status: 403, body: { error: `host '${req.headers.host}' not allowed` } });
    if (path.startsWith('/api/')) return sendJson(req, res, await handleApi(reader, req.method ?? 'GET', path.slice(5), url.searchParams));
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(req, res, { status: 405, body: { error: `method ${req.method} not allowed` } });
    if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', html);
    const asset = /^\/assets\/([\w-]+\.(?:js|css|map))$/.exec(path)?.[1];
    if (asset && existsSync(join(assetsDir, asset))) return send(res, 200, TYPES[extname(asset)]!, readFileSync(join(assetsDir, asset)));
    return sendJson(req, res, { status: 404, body: { error: `not found: ${path}` } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(req, res, { status: 500, body: { error: err instanceof Error ? err.message : String(err) } });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"bad request"}');
    else socket.destroy();
  });

  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', fail);
        ok();
      });
    });
  } catch (err) {
    reader.close();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const shown = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shown}:${port}/`,
    port,
    missingAssets,
    runs: () => Promise.all(reader.entries().map((e) => reader.info(e))),
    close: async () => {
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      reader.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
