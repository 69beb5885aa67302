/// <reference lib="dom" />
/** Several runs side by side: held-out test table, per-round curves and calibration. */
import type { RunInfo, RunSummary } from './client.js';
import { Chart } from './chart.js';
import { compareCalibrationSpec, compareRoundsSpec, compareTestSpec, type RunSeries } from './charts.js';
import { fill, h } from './dom.js';
import { fixed, pct } from './format.js';
import { DEFAULT_LAMBDA, fHalfWidth95 } from '../../loop/metrics.js';
import type { MetricsView } from '../queries.js';
import { problemBanner, statusText } from './run-view.js';

export const runLabel = (info: Pick<RunInfo, 'name' | 'group'>): string => (info.group ? `${info.group}/${info.name}` : info.name);

export class CompareView {
  readonly el: HTMLElement;
  private readonly table = h('div', { class: 'table-wrap' });
  private readonly problems = h('div');
  private readonly charts = { rounds: new Chart('chart-compare-rounds'), test: new Chart('chart-compare-test'), calibration: new Chart('chart-compare-calibration') };

  constructor(private readonly open: (id: string) => void) {
    const c = this.charts;
    this.el = h('div', { class: 'compare-view' },
      h('div', { class: 'run-head' }, h('h1', null, 'Comparison')),
      this.problems,
      h('section', { class: 'panel', id: 'compare-table' }, h('h2', null, 'Runs'), this.table),
      h('section', { class: 'panel' }, h('h2', null, 'Held-out test'), h('div', { class: 'grid' }, c.test.el, c.calibration.el)),
      h('section', { class: 'panel' }, h('h2', null, 'Validation per round'), c.rounds.el),
    );
  }

  destroy(): void {
    Object.values(this.charts).forEach((c) => c.destroy());
  }

  update(infos: readonly RunInfo[], summaries: ReadonlyMap<string, RunSummary>): void {
    fill(this.problems, infos.filter((i) => i.status !== 'ok').map((i) => problemBanner(i)));
    const runs: RunSeries[] = infos.flatMap((i) => {
      const summary = summaries.get(i.id);
      return summary ? [{ name: runLabel(i), summary }] : [];
    });
    const bestF = Math.max(...runs.map((r) => r.summary.final?.overall?.f ?? -Infinity));
    const cols = ['run', 'method', 'status', 'rounds', 'selected', 'test accuracy', 'test precision', 'test refusal', 'test f'];
    fill(this.table, h('table', null,
      h('thead', null, h('tr', null, cols.map((c) => h('th', null, c)))),
      h('tbody', null, infos.map((i) => {
        const s = summaries.get(i.id);
        const t = s?.final?.overall;
        return h('tr', { class: t && t.f === bestF ? 'best' : '', 'data-run': i.id },
          h('td', null, h('a', { href: `#run=${encodeURIComponent(i.id)}`, onclick: (ev: Event) => { ev.preventDefault(); this.open(i.id); } }, runLabel(i))),
          h('td', null, i.method ?? '–'), h('td', null, h('span', { class: `status ${i.status} ${i.finished ? 'finished' : ''}` }, statusText(i))),
          h('td', null, String(i.rounds)), h('td', null, s?.selected ?? '–'),
          h('td', null, pct(t?.accuracy)), h('td', null, pct(t?.precision)), h('td', null, pct(t?.idkRate)), h('td', null, fWithInterval(t, lambdaOf(s))));
      })),
    ));
    const c = this.charts;
    const finished = runs.filter((r) => r.summary.final?.overall);
    void c.test.show(finished.length > 0 ? compareTestSpec(finished) : null, 'No run has finished its held-out test yet.');
    void c.calibration.show(finished.length > 0 ? compareCalibrationSpec(finished) : null, 'No run has finished its held-out test yet.');
    void c.rounds.show(runs.some((r) => r.summary.rounds.length > 0) ? compareRoundsSpec(runs) : null, 'No rounds yet.');
  }
}

/** f with its 95% interval over the held-out problems, as compare.md prints it. */
function fWithInterval(t: MetricsView | null | undefined, lambda: number): string {
  const half = t ? fHalfWidth95(t, lambda) : NaN;
  return Number.isFinite(half) ? `${fixed(t!.f, 4)} ± ${half.toFixed(3)}` : fixed(t?.f, 4);
}

const lambdaOf = (s: RunSummary | undefined): number => {
  const lambda = (s?.config?.curriculum as { lambda?: unknown } | undefined)?.lambda;
  return typeof lambda === 'number' ? lambda : DEFAULT_LAMBDA;
};
