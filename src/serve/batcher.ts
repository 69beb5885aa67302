/** Request batching for the synchronous engine. Requests wait a few milliseconds in a queue; then
 * every queued request with the same model and sampling settings is decoded in one `sample` call.
 * Between batches the event loop runs, so sockets are read and answered while work is queued.
 *
 * Seeds: `sample` derives each sequence's random stream from (seed, prompt index, sample index). A
 * request decoded alone uses its own seed, so it is reproducible; requests batched together share
 * streams derived from all their seeds, so under concurrent load outputs depend on the batch. */
import { type Completion, sample } from '../engine/index.js';
import type { ServedModel } from './models.js';

export interface SamplingSettings {
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  stop: readonly string[];
  truncatePrompt: 'left' | 'error';
}

interface Job {
  model: ServedModel;
  key: string;
  prompts: readonly string[];
  settings: SamplingSettings;
  seed: number;
  enqueuedAt: number;
  cancelled: () => boolean;
  resolve: (out: Completion[][]) => void;
  reject: (err: unknown) => void;
}

export interface BatchStats {
  batches: number;
  sequences: number;
  tokens: number;
  /** Requests folded into batches (a batch of 1 is no batching). */
  requests: number;
  /** Requests dropped because their client had gone. */
  skipped: number;
  busyMs: number;
}

export interface BatcherOptions {
  /** Wait this long after the oldest queued request before decoding (default 5 ms). */
  windowMs?: number;
  /** Most sequences (prompts × n) per batch (default 128); a larger request runs alone. */
  maxSequences?: number;
  /** Sequences `sample` decodes at once (its KV-cache bound, default 64). */
  decodeBatch?: number;
}

export class ShutdownError extends Error {}

export class Batcher {
  readonly stats: BatchStats = { batches: 0, sequences: 0, tokens: 0, requests: 0, skipped: 0, busyMs: 0 };
  private readonly queue: Job[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private closed = false;
  private readonly windowMs: number;
  private readonly maxSequences: number;
  private readonly decodeBatch: number;

  constructor(options: BatcherOptions = {}) {
    this.windowMs = options.windowMs ?? 5;
    this.maxSequences = options.maxSequences ?? 128;
    this.decodeBatch = options.decodeBatch ?? 64;
  }

  /** Queued sequences not yet decoded. */
  get pending(): number {
    return this.queue.reduce((a, j) => a + j.prompts.length * j.settings.n, 0);
  }

  /** Completions[prompt][sample] for one request. `cancelled` is polled before decoding, so a
   * request whose client disconnected costs nothing. */
  submit(model: ServedModel, prompts: readonly string[], settings: SamplingSettings, seed: number,
    cancelled: () => boolean = () => false): Promise<Completion[][]> {
    if (this.closed) return Promise.reject(new ShutdownError('the server is shutting down'));
    return new Promise((resolve, reject) => {
      const key = JSON.stringify([model.uid, settings.n, settings.temperature, settings.topP, settings.topK, settings.maxTokens, settings.stop, settings.truncatePrompt]);
      this.queue.push({ model, key, prompts, settings, seed, enqueuedAt: performance.now(), cancelled, resolve, reject });
      this.schedule();
    });
  }

  /** Rejects everything queued; later submissions fail at once. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const job of this.queue.splice(0)) job.reject(new ShutdownError('the server is shutting down'));
  }

  private schedule(): void {
    if (this.running || this.timer || this.queue.length === 0) return;
    const full = this.pending >= this.maxSequences;
    const wait = full ? 0 : Math.max(0, this.queue[0]!.enqueuedAt + this.windowMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, wait);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const head = this.queue[0]!;
        // Not full and still inside the window: let more requests arrive.
        if (this.pending < this.maxSequences && performance.now() < head.enqueuedAt + this.windowMs) break;
        this.runBatch(this.take());
        // Let the event loop read sockets and flush responses before the next batch.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** The oldest job and every later one with the same key, up to maxSequences. */
  private take(): Job[] {
    const key = this.queue[0]!.key;
    const batch: Job[] = [];
    let seqs = 0;
    for (let i = 0; i < this.queue.length;) {
      const job = this.queue[i]!;
      const size = job.prompts.length * job.settings.n;
      if (job.key === key && (batch.length === 0 || seqs + size <= this.maxSequences)) {
        batch.push(job);
        seqs += size;
        this.queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  private runBatch(jobs: Job[]): void {
    const live = jobs.filter((j) => {
      if (!j.cancelled()) return true;
      this.stats.skipped++;
      j.reject(new ShutdownError('client disconnected'));
      return false;
    });
    if (live.length === 0) return;
    const first = live[0]!;
    const prompts = live.flatMap((j) => j.prompts);
    const seed = live.length === 1 ? first.seed : live.reduce((h, j) => Math.imul(h ^ j.seed, 0x01000193) >>> 0, 0x811c9dc5);
    const started = performance.now();
    let out: Completion[][];
    try {
      const s = first.settings;
      out = sample(first.model.model, first.model.tokenizer, prompts, {
        n: s.n, temperature: s.temperature, topP: s.topP, topK: s.topK, maxTokens: s.maxTokens, stop: s.stop,
        seed, batchSize: this.decodeBatch, truncatePrompt: s.truncatePrompt,
      });
    } catch (err) {
      for (const j of live) j.reject(err);
      return;
    } finally {
      this.stats.busyMs += performance.now() - started;
    }
    this.stats.batches++;
    this.stats.requests += live.length;
    this.stats.sequences += prompts.length * first.settings.n;
    let at = 0;
    for (const j of live) {
      const mine = out.slice(at, at + j.prompts.length);
      at += j.prompts.length;
      for (const list of mine) for (const c of list) this.stats.tokens += c.tokens.length;
      j.resolve(mine);
    }
  }
}
