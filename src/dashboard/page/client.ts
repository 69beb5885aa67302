/// <reference lib="dom" />
/** Typed calls to the dashboard's JSON API. */
import type { RunInfo, RunSummary } from '../api.js';
import type { SamplePage } from '../queries.js';

export type { RunInfo, RunSummary };
export type SamplesAnswer = SamplePage & { round: string; split: 'train' | 'val' | 'test' };

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly runStatus?: string) {
    super(message);
  }
}

async function get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const url = `/api/${path}${q.toString() ? `?${q}` : ''}`;
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as { error?: string; status?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `${res.status} ${res.statusText}`, body.status);
  return body as T;
}

export const fetchRuns = () => get<{ runs: RunInfo[] }>('runs').then((r) => r.runs);
export const fetchSummary = (run: string) => get<RunSummary>('summary', { run });

export interface SampleFilter {
  round: string;
  split?: string;
  verdict?: string;
  difficulty?: string;
  problem?: string;
  offset: number;
  limit: number;
}

export const fetchSamples = (run: string, f: SampleFilter) => get<SamplesAnswer>('samples', { run, ...f });
