/// <reference lib="dom" />
/** The page: tabs for the runs (and a comparison when there are several), polled so new rounds
 * show up without a reload. */
import { ApiError, fetchRuns, fetchSummary, type RunInfo, type RunSummary } from './client.js';
import { CompareView, runLabel } from './compare-view.js';
import { fill, h } from './dom.js';
import { RunView, statusText } from './run-view.js';

type Route = { kind: 'run'; id: string } | { kind: 'compare' } | { kind: 'auto' };

const pollMs = Number(document.querySelector<HTMLMetaElement>('meta[name="ceiling-poll-ms"]')?.content) || 2000;

function parseRoute(): Route {
  const hash = new URLSearchParams(location.hash.slice(1));
  const run = hash.get('run');
  if (run !== null) return { kind: 'run', id: run };
  if (hash.has('compare')) return { kind: 'compare' };
  return { kind: 'auto' };
}

class App {
  private readonly tabs = h('nav', { class: 'tabs' });
  private readonly live = h('span', { class: 'live', id: 'live' }, 'connecting…');
  private readonly main = h('main');
  private runs: RunInfo[] = [];
  private view: RunView | CompareView | null = null;
  private viewKey = '';
  private readonly summaries = new Map<string, RunSummary>();
  private timer: number | undefined;
  private polling = false;
  private again = false;

  constructor(root: HTMLElement) {
    fill(root, h('header', { class: 'top' }, h('span', { class: 'brand' }, 'ceiling'), this.tabs, this.live), this.main);
    window.addEventListener('hashchange', () => void this.tick());
  }

  start(): void {
    void this.tick();
  }

  /** The route with `auto` resolved: the comparison when there are several runs, else the run. */
  private route(): Route {
    const r = parseRoute();
    if (r.kind === 'run' && this.runs.some((x) => x.id === r.id)) return r;
    if (r.kind === 'compare' && this.runs.length > 1) return r;
    if (this.runs.length > 1) return { kind: 'compare' };
    return this.runs[0] ? { kind: 'run', id: this.runs[0].id } : { kind: 'auto' };
  }

  /** One poll at a time: a navigation during a poll asks for another right after it. */
  private async tick(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    window.clearTimeout(this.timer);
    try {
      this.runs = await fetchRuns();
      const route = this.route();
      this.renderTabs(route);
      await this.render(route);
      this.live.className = 'live ok';
      this.live.textContent = `live · checked ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      this.live.className = 'live down';
      this.live.textContent = err instanceof ApiError ? `error: ${err.message}` : 'server unreachable · retrying';
    }
    this.polling = false;
    const again = this.again;
    this.again = false;
    this.timer = window.setTimeout(() => void this.tick(), again ? 0 : pollMs);
  }

  private renderTabs(route: Route): void {
    const tab = (label: string, hash: string, active: boolean, info?: RunInfo) =>
      h('a', { href: `#${hash}`, class: `tab ${active ? 'active' : ''}`, 'data-status': info?.status ?? '', title: info ? `${info.dir} (${statusText(info)})` : '' },
        info ? h('span', { class: `dot ${info.status} ${info.finished ? 'finished' : ''}` }) : null, label);
    fill(this.tabs,
      this.runs.length > 1 ? tab('compare', 'compare', route.kind === 'compare') : null,
      this.runs.map((r) => tab(runLabel(r), `run=${encodeURIComponent(r.id)}`, route.kind === 'run' && route.id === r.id, r)),
    );
  }

  private setView(key: string, make: () => RunView | CompareView): RunView | CompareView {
    if (this.viewKey !== key || !this.view) {
      this.view?.destroy();
      this.view = make();
      this.viewKey = key;
      fill(this.main, this.view.el);
    }
    return this.view;
  }

  /** Summaries for runs that can be read; a failed fetch keeps the last one shown. */
  private async refresh(infos: readonly RunInfo[]): Promise<void> {
    await Promise.all(infos.map(async (info) => {
      if (info.status !== 'ok') return;
      try {
        this.summaries.set(info.id, await fetchSummary(info.id));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
    }));
  }

  private async render(route: Route): Promise<void> {
    if (route.kind === 'auto') {
      this.view?.destroy();
      this.view = null;
      this.viewKey = '';
      fill(this.main, h('div', { class: 'banner info' }, 'No run directories given.'));
      return;
    }
    if (route.kind === 'compare') {
      await this.refresh(this.runs);
      const view = this.setView('compare', () => new CompareView((id) => (location.hash = `run=${encodeURIComponent(id)}`))) as CompareView;
      view.update(this.runs, this.summaries);
      return;
    }
    const info = this.runs.find((r) => r.id === route.id)!;
    await this.refresh([info]);
    const view = this.setView(`run:${info.id}`, () => new RunView(info.id)) as RunView;
    const summary = this.summaries.get(info.id);
    if (info.status === 'ok' && summary) view.update({ ...summary, run: info });
    else view.showInfo(info);
  }
}

new App(document.getElementById('app') ?? document.body).start();
