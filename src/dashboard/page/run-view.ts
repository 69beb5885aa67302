/// <reference lib="dom" />
/** One run: its curves, curriculum, calibration, rounds and samples. */
import type { RunInfo, RunSummary } from './client.js';
import { Chart } from './chart.js';
import { calibrationSpec, curriculumSpec, lossSpec, metricsSpec, rewardSpec } from './charts.js';
import { fill, h } from './dom.js';
import { ago, count, fixed, pct } from './format.js';
import { SampleBrowser } from './samples.js';

export function statusText(info: RunInfo): string {
  switch (info.status) {
    case 'ok':
      return info.finished ? 'finished' : info.rounds === 0 ? 'started' : 'running';
    case 'empty':
      return 'waiting for data';
    case 'not-a-run':
      return 'not a run';
    case 'missing':
      return 'missing';
    case 'damaged':
      return 'damaged';
    case 'busy':
      return 'busy';
  }
}

const HEADLINE: Record<string, string> = {
  empty: 'Nothing to show yet.',
  'not-a-run': 'Not a run directory.',
  missing: 'Directory not found.',
  damaged: 'The run database cannot be read.',
  busy: 'The run is being written.',
  ok: 'Showing an older state.',
};

/** The explanation shown instead of a run that cannot be read. */
export function problemBanner(info: RunInfo): HTMLElement {
  const hint: Record<string, string> = {
    empty: 'The page will fill in by itself once the run writes its first round.',
    'not-a-run': 'Pass a run directory (one holding run.db) or a compare directory (one run directory per method).',
    missing: 'The directory was removed or renamed.',
    damaged: 'The file is not a readable SQLite database. Restore it from a copy, or start the run again in a new directory.',
    busy: 'The run is writing a large round; it will show in a moment.',
  };
  return h('div', { class: `banner ${info.status === 'damaged' || info.status === 'not-a-run' || info.status === 'missing' ? 'error' : 'info'}`, 'data-status': info.status },
    h('strong', null, `${HEADLINE[info.status] ?? ''} `), info.message ?? '', h('br'), h('span', { class: 'muted' }, hint[info.status] ?? ''));
}

export class RunView {
  readonly el: HTMLElement;
  private readonly head = h('div', { class: 'run-head' });
  private readonly banner = h('div');
  private readonly body: HTMLElement;
  private readonly cards = h('div', { class: 'cards' });
  private readonly stageTable = h('div', { class: 'table-wrap' });
  private readonly roundsTable = h('div', { class: 'table-wrap' });
  private readonly charts = {
    metrics: new Chart('chart-metrics'),
    loss: new Chart('chart-loss'),
    curriculum: new Chart('chart-c1'),
    reward: new Chart('chart-reward'),
    refusal: new Chart('chart-refusal'),
    accuracy: new Chart('chart-accuracy'),
  };
  private readonly samples: SampleBrowser;

  constructor(readonly runId: string) {
    this.samples = new SampleBrowser(runId);
    const c = this.charts;
    this.body = h('div', { class: 'run-body', hidden: true },
      this.cards,
      h('section', { class: 'panel', id: 'curves' }, h('h2', null, 'Curves'), h('div', { class: 'grid' }, c.metrics.el, c.loss.el)),
      h('section', { class: 'panel', id: 'curriculum' }, h('h2', null, 'Curriculum'), h('div', { class: 'grid' }, h('div', null, c.curriculum.el, this.stageTable), c.reward.el)),
      h('section', { class: 'panel', id: 'calibration' }, h('h2', null, 'Calibration'), h('div', { class: 'grid' }, c.refusal.el, c.accuracy.el)),
      h('section', { class: 'panel', id: 'rounds' }, h('h2', null, 'Rounds'), this.roundsTable),
      this.samples.el,
    );
    this.el = h('div', { class: 'run-view', 'data-run': runId }, this.head, this.banner, this.body);
  }

  destroy(): void {
    Object.values(this.charts).forEach((c) => c.destroy());
  }

  /** Shows why the run cannot be read; a previously shown state stays visible under the banner. */
  showInfo(info: RunInfo): void {
    this.renderHead(info);
    fill(this.banner, info.status === 'ok' && !info.stale ? null : problemBanner(info));
  }

  update(summary: RunSummary): void {
    this.showInfo(summary.run);
    this.body.hidden = false;
    this.el.dataset.version = summary.run.version ?? '';
    this.renderCards(summary);
    const { rounds, final, stages, curriculum, losses } = summary;
    const c = this.charts;
    void c.metrics.show(rounds.some((r) => r.overall) ? metricsSpec(rounds) : null, 'No rounds yet: the first point appears when the initial model has been evaluated.');
    void c.loss.show(losses.length > 0 ? lossSpec(losses, rounds) : null, 'No training loss recorded yet.');
    const method = typeof summary.config?.method === 'string' ? summary.config.method : null;
    const noCurriculum = method && !['autocei', 'fixed-c1'].includes(method) ? `The ${method} method has no refusal curriculum.` : 'No curriculum yet: it is set by the EI baseline round.';
    void c.curriculum.show(stages.length > 0 ? curriculumSpec(stages) : null, noCurriculum);
    void c.reward.show(curriculum ? rewardSpec(curriculum.c1, curriculum.c2, `latest stage (${curriculum.round})`) : null, noCurriculum);
    const hasCal = rounds.some((r) => r.byDifficulty.length > 0) || (final?.byDifficulty.length ?? 0) > 0;
    void c.refusal.show(hasCal ? calibrationSpec(rounds, final, 'idkRate') : null, 'No per-difficulty metrics yet.');
    void c.accuracy.show(hasCal ? calibrationSpec(rounds, final, 'accuracy') : null, 'No per-difficulty metrics yet.');
    this.renderStages(summary);
    this.renderRounds(summary);
    this.samples.update(summary);
  }

  private renderHead(info: RunInfo): void {
    fill(this.head,
      h('h1', null, info.group ? `${info.group} / ${info.name}` : info.name),
      h('span', { class: `status ${info.status} ${info.finished ? 'finished' : ''}`, id: 'run-status' }, statusText(info)),
      h('span', { class: 'muted' }, [info.method, info.domain].filter(Boolean).join(' on ')),
      h('span', { class: 'muted path' }, info.dir),
    );
  }

  private renderCards(s: RunSummary): void {
    const last = s.rounds.at(-1);
    const bestVal = s.rounds.reduce<number | null>((b, r) => (r.overall && (b === null || r.overall.f > b) ? r.overall.f : b), null);
    const t = s.final?.overall;
    const card = (label: string, value: string, note = '') => h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), note ? h('div', { class: 'note' }, note) : null);
    const problems = Object.fromEntries(s.problems.map((p) => [p.split, p.count]));
    fill(this.cards,
      card('rounds', String(s.rounds.length), last ? `latest ${last.key}, ${ago(last.finishedAt)}` : 'none yet'),
      card('best validation f', fixed(bestVal, 4), s.selected ? `selected: ${s.selected}` : 'no selection yet'),
      card('held-out test', t ? `${pct(t.precision)} precision` : '–', t ? `accuracy ${pct(t.accuracy)} · refusal ${pct(t.idkRate)} · f ${fixed(t.f, 4)}` : 'after the last round'),
      card('problems', count((problems.train ?? 0) + (problems.val ?? 0) + (problems.test ?? 0)), `${count(problems.train ?? 0)} train · ${count(problems.val ?? 0)} val · ${count(problems.test ?? 0)} test`),
      s.curriculum ? card('curriculum', `c1 ${fixed(s.curriculum.c1)}`, `c2 ${fixed(s.curriculum.c2)} (${s.curriculum.round})`) : null,
    );
  }

  private renderStages(s: RunSummary): void {
    if (s.stages.length === 0) return fill(this.stageTable);
    const best = Math.max(...s.stages.map((x) => x.bestF));
    fill(this.stageTable, h('table', { class: 'compact' },
      h('thead', null, h('tr', null, ['stage', 'c1', 'c2', 'rounds', 'best f'].map((c) => h('th', null, c)))),
      h('tbody', null, s.stages.map((x) => h('tr', { class: x.bestF === best ? 'best' : '' },
        h('td', null, x.label), h('td', null, fixed(x.c1)), h('td', null, fixed(x.c2)), h('td', null, String(x.rounds)), h('td', null, fixed(x.bestF, 4))))),
    ));
  }

  private renderRounds(s: RunSummary): void {
    const cols = ['round', 'c1', 'c2', 'train examples', 'train loss', 'accuracy', 'precision', 'refusal', 'f', 'pass@k', 'maj@k', 'finished'];
    const rows = [...s.rounds, ...(s.final ? [s.final] : [])].map((r) => {
      const m = r.overall;
      return h('tr', { class: `${r.key === s.selected ? 'best' : ''} ${r.phase === 'final' ? 'final' : ''}`, 'data-round': r.key },
        h('td', null, r.phase === 'final' ? 'final (test)' : r.key), h('td', null, fixed(r.c1)), h('td', null, fixed(r.c2)),
        h('td', null, count(r.trainExamples)), h('td', null, fixed(r.trainLoss, 4)),
        h('td', null, pct(m?.accuracy)), h('td', null, pct(m?.precision)), h('td', null, pct(m?.idkRate)), h('td', null, fixed(m?.f, 4)),
        h('td', null, pct(m?.passAtK)), h('td', null, pct(m?.majAtK)), h('td', { title: r.finishedAt }, ago(r.finishedAt)));
    });
    fill(this.roundsTable, rows.length === 0 ? h('p', { class: 'muted' }, 'No rounds yet.') : h('table', null,
      h('thead', null, h('tr', null, cols.map((c) => h('th', null, c)))), h('tbody', null, rows)));
  }
}
