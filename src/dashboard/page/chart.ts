/// <reference lib="dom" />
/** One Vega-Lite chart in a container, redrawn when its spec changes. */
import embed, { type Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';
import { fill, h } from './dom.js';

export class Chart {
  readonly el: HTMLDivElement;
  private result: Result | null = null;
  private shown = '';
  private seq = 0;

  constructor(id: string) {
    this.el = h('div', { class: 'chart', id });
  }

  /** Draws `spec`, or shows `empty` when there is nothing to plot. Same spec twice: no redraw. */
  async show(spec: TopLevelSpec | null, empty = 'nothing to plot yet'): Promise<void> {
    const key = spec === null ? `empty:${empty}` : JSON.stringify(spec);
    if (key === this.shown) return;
    this.shown = key;
    const seq = ++this.seq;
    this.result?.finalize();
    this.result = null;
    if (spec === null) {
      fill(this.el, h('p', { class: 'muted empty' }, empty));
      this.el.dataset.state = 'empty';
      return;
    }
    const target = h('div');
    fill(this.el, target);
    try {
      const result = await embed(target, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } });
      if (seq !== this.seq) {
        result.finalize();
        return;
      }
      this.result = result;
      this.el.dataset.state = 'ready';
    } catch (err) {
      if (seq !== this.seq) return;
      fill(this.el, h('p', { class: 'error' }, `chart failed: ${err instanceof Error ? err.message : String(err)}`));
      this.el.dataset.state = 'error';
    }
  }

  destroy(): void {
    this.seq++;
    this.result?.finalize();
    this.result = null;
  }
}
