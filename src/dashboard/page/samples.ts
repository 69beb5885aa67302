/// <reference lib="dom" />
/** The sample browser: one page of a round's samples at a time, filtered on the server. */
import { fetchSamples, type RunSummary, type SampleFilter, type SamplesAnswer } from './client.js';
import { fill, h, select } from './dom.js';
import { count, fixed } from './format.js';
import type { RoundView, SampleView } from '../queries.js';

export const PAGE_SIZE = 50;
const SPLIT_LABEL: Record<string, string> = { train: 'train (EI samples)', val: 'validation', test: 'held-out test' };

interface State { round: string; split: string; verdict: string; difficulty: string; problem: string; offset: number }

export class SampleBrowser {
  readonly el: HTMLElement;
  private readonly controls = h('div', { class: 'controls' });
  private readonly status = h('div', { class: 'pager' });
  private readonly list = h('div', { class: 'sample-list' });
  private state: State = { round: '', split: '', verdict: '', difficulty: '', problem: '', offset: 0 };
  private rounds: RoundView[] = [];
  private difficulties: number[] = [];
  private last: SamplesAnswer | null = null;
  private seq = 0;
  private typing: number | undefined;

  constructor(private readonly runId: string) {
    this.el = h('section', { id: 'samples', class: 'panel' }, h('h2', null, 'Samples'), this.controls, this.status, this.list);
  }

  /** New rounds from a poll: refresh the choices, keep what the reader picked. */
  update(summary: RunSummary): void {
    const rounds = [...summary.rounds, ...(summary.final ? [summary.final] : [])];
    const changed = rounds.length !== this.rounds.length || summary.difficulties.join() !== this.difficulties.join();
    this.rounds = rounds;
    this.difficulties = summary.difficulties;
    if (!rounds.some((r) => r.key === this.state.round)) {
      // Start on the latest round that sampled the training problems (its samples carry rewards).
      const withTrain = rounds.filter((r) => (r.samples.train ?? 0) > 0).at(-1);
      this.state = { ...this.state, round: (withTrain ?? rounds.at(-1))?.key ?? '', split: '', offset: 0 };
      this.renderControls();
      void this.load();
    } else if (changed) {
      this.renderControls();
    }
  }

  private set(patch: Partial<State>): void {
    this.state = { ...this.state, offset: 0, ...patch };
    this.renderControls();
    void this.load();
  }

  private renderControls(): void {
    const round = this.rounds.find((r) => r.key === this.state.round);
    const splits = Object.entries(round?.samples ?? {}).filter(([, n]) => (n ?? 0) > 0);
    const verdicts = this.last?.verdicts;
    const verdictLabel = (v: string) => (verdicts ? `${v} (${count(verdicts[v as keyof typeof verdicts])})` : v);
    const search = h('input', { type: 'search', name: 'problem', placeholder: 'problem id contains…', value: this.state.problem });
    search.addEventListener('input', () => {
      window.clearTimeout(this.typing);
      this.typing = window.setTimeout(() => this.set({ problem: search.value.trim() }), 300);
    });
    fill(this.controls,
      h('label', null, 'round ', select(this.rounds.map((r) => [r.key, `${r.key} (${count(Object.values(r.samples).reduce<number>((a, b) => a + (b ?? 0), 0))})`] as const), this.state.round, (v) => this.set({ round: v, split: '' }), { name: 'round' })),
      h('label', null, 'split ', select([['', 'default'], ...splits.map(([s, n]) => [s, `${SPLIT_LABEL[s] ?? s} (${count(n ?? 0)})`] as const)], this.state.split || (this.last?.split ?? ''), (v) => this.set({ split: v }), { name: 'split' })),
      h('label', null, 'verdict ', select([['', 'all'], ...['correct', 'wrong', 'idk'].map((v) => [v, verdictLabel(v)] as const)], this.state.verdict, (v) => this.set({ verdict: v }), { name: 'verdict' })),
      h('label', null, 'difficulty ', select([['', 'all'], ...this.difficulties.map((d) => [String(d), String(d)] as const)], this.state.difficulty, (v) => this.set({ difficulty: v }), { name: 'difficulty' })),
      h('label', null, search),
    );
  }

  private async load(): Promise<void> {
    if (!this.state.round) {
      fill(this.list, h('p', { class: 'muted' }, 'No rounds yet.'));
      fill(this.status);
      return;
    }
    const seq = ++this.seq;
    const f: SampleFilter = {
      round: this.state.round, split: this.state.split || undefined, verdict: this.state.verdict || undefined,
      difficulty: this.state.difficulty || undefined, problem: this.state.problem || undefined, offset: this.state.offset, limit: PAGE_SIZE,
    };
    this.el.dataset.loading = 'true';
    try {
      const page = await fetchSamples(this.runId, f);
      if (seq !== this.seq) return;
      this.last = page;
      this.renderControls();
      this.renderPage(page);
    } catch (err) {
      if (seq !== this.seq) return;
      fill(this.list, h('p', { class: 'error' }, `Cannot load samples: ${err instanceof Error ? err.message : String(err)}`));
    } finally {
      if (seq === this.seq) delete this.el.dataset.loading;
    }
  }

  private renderPage(page: SamplesAnswer): void {
    const first = page.total === 0 ? 0 : page.offset + 1;
    const lastIdx = page.offset + page.items.length;
    const go = (offset: number) => {
      this.state = { ...this.state, offset };
      void this.load();
    };
    const lastPage = Math.max(0, Math.floor((page.total - 1) / page.limit) * page.limit);
    fill(this.status,
      h('button', { type: 'button', name: 'first', disabled: page.offset === 0, onclick: () => go(0) }, '«'),
      h('button', { type: 'button', name: 'prev', disabled: page.offset === 0, onclick: () => go(Math.max(0, page.offset - page.limit)) }, '‹ prev'),
      h('span', { class: 'range' }, `${count(first)}–${count(lastIdx)} of ${count(page.total)} ${SPLIT_LABEL[page.split] ?? page.split} samples of ${page.round}`),
      h('button', { type: 'button', name: 'next', disabled: lastIdx >= page.total, onclick: () => go(page.offset + page.limit) }, 'next ›'),
      h('button', { type: 'button', name: 'last', disabled: lastIdx >= page.total, onclick: () => go(lastPage) }, '»'),
    );
    if (page.items.length === 0) {
      fill(this.list, h('p', { class: 'muted' }, 'No samples match these filters.'));
      return;
    }
    // Consecutive samples of one problem share its header.
    const groups: SampleView[][] = [];
    for (const s of page.items) {
      const g = groups.at(-1);
      if (g && g[0]!.problemId === s.problemId) g.push(s);
      else groups.push([s]);
    }
    fill(this.list, groups.map((g) => problemBlock(g)));
  }
}

function problemBlock(samples: SampleView[]): HTMLElement {
  const p = samples[0]!;
  return h('article', { class: 'problem', 'data-problem': p.problemId },
    h('header', null,
      h('span', { class: 'pid' }, p.problemId),
      h('span', { class: 'chip' }, `difficulty ${p.difficulty ?? '?'}`),
      p.prompt !== null ? h('details', null, h('summary', null, 'prompt'), h('pre', null, p.prompt)) : null,
      p.gold !== null ? h('details', null, h('summary', null, 'gold solution'), h('pre', null, p.gold)) : null,
    ),
    samples.map((s) => sampleRow(s)),
  );
}

function sampleRow(s: SampleView): HTMLElement {
  const lines = s.response.split('\n');
  const preview = lines.find((l) => l.trim() !== '') ?? '(empty response)';
  return h('div', { class: `sample ${s.verdict}`, 'data-verdict': s.verdict },
    h('div', { class: 'meta' },
      h('span', { class: 'idx' }, `#${s.index}`),
      h('span', { class: `verdict ${s.verdict}` }, s.verdict),
      h('span', null, `depth ${s.depth}`),
      h('span', null, `reward ${s.reward === null ? '–' : fixed(s.reward)}`),
    ),
    s.reason !== null ? h('div', { class: 'reason' }, `verifier: ${s.reason}`) : null,
    h('details', { class: 'response' },
      h('summary', null, `${preview.length > 110 ? `${preview.slice(0, 110)}…` : preview}  (${lines.length} line${lines.length === 1 ? '' : 's'})`),
      h('pre', null, s.response),
    ),
  );
}
