/** Counters for `GET /metrics` in the Prometheus text format (the format vLLM and llama-server
 * expose), with process memory so a load test can watch for growth. */
import type { BatchStats } from './batcher.js';

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly modelRequests = new Map<string, number>();
  inFlight = 0;

  request(route: string, status: number): void {
    const key = `route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** A sampling request addressed to `model` (counted once it is accepted). */
  modelRequest(model: string): void {
    this.modelRequests.set(model, (this.modelRequests.get(model) ?? 0) + 1);
  }

  render(batch: BatchStats, queued: number, models: number): string {
    const mem = process.memoryUsage();
    const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    };
    metric('ceiling_http_requests_total', 'counter', 'HTTP requests by route and status.', [...this.requests]);
    metric('ceiling_model_requests_total', 'counter', 'Accepted sampling requests by model name.',
      [...this.modelRequests].map(([m, v]) => [`model="${esc(m)}"`, v]));
    metric('ceiling_requests_in_flight', 'gauge', 'Requests being handled.', [['', this.inFlight]]);
    metric('ceiling_queue_sequences', 'gauge', 'Sequences waiting for a batch.', [['', queued]]);
    metric('ceiling_batches_total', 'counter', 'Batches decoded.', [['', batch.batches]]);
    metric('ceiling_batched_requests_total', 'counter', 'Requests decoded in batches.', [['', batch.requests]]);
    metric('ceiling_sequences_total', 'counter', 'Sequences decoded.', [['', batch.sequences]]);
    metric('ceiling_generation_tokens_total', 'counter', 'Tokens generated.', [['', batch.tokens]]);
    metric('ceiling_skipped_requests_total', 'counter', 'Queued requests dropped because the client left.', [['', batch.skipped]]);
    metric('ceiling_engine_busy_seconds_total', 'counter', 'Time spent decoding.', [['', batch.busyMs / 1000]]);
    metric('ceiling_models_loaded', 'gauge', 'Models served.', [['', models]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident set size.', [['', mem.rss]]);
    metric('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', [['', mem.heapUsed]]);
    return lines.join('\n') + '\n';
  }
}

/** Parses the Prometheus text format back into `name{labels}` → value (for clients and tests). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
