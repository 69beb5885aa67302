/** Plots as standalone SVG files, rendered from Vega-Lite specs without a browser or canvas. The
 * same specs can be embedded in a web page. */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type Row = Record<string, string | number | null>;

/** What every chart here shares: size, white background (the SVGs are viewed standalone), data. */
function frame(title: string, rows: Row[]) {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 520, height: 260, background: 'white', data: { values: rows } };
}

/** Lines of several series over an ordered x (one colour per series). */
export function lineChart(title: string, rows: Row[], x: { field: string; title: string; ordinal?: boolean }, y: { title: string; domain?: [number, number]; log?: boolean }, series = 'series'): TopLevelSpec {
  const scale = { ...(y.domain ? { domain: y.domain } : {}), ...(y.log ? { type: 'log' } : {}) };
  return {
    ...frame(title, rows),
    // Points mark the few values of an ordinal axis; on a quantitative one they would hide the line.
    mark: { type: 'line', point: x.ordinal === true },
    encoding: {
      x: { field: x.field, type: x.ordinal ? 'ordinal' : 'quantitative', title: x.title, sort: null },
      y: { field: 'value', type: 'quantitative', title: y.title, ...(Object.keys(scale).length > 0 ? { scale } : {}) },
      color: { field: series, type: 'nominal', title: null, sort: null },
    },
  } as TopLevelSpec;
}

/** Grouped bars: one group per `group`, one bar per `series`. */
export function barChart(title: string, rows: Row[], group: string, series: string, yTitle: string): TopLevelSpec {
  return {
    ...frame(title, rows),
    mark: 'bar',
    encoding: {
      x: { field: group, type: 'nominal', title: null, sort: null },
      xOffset: { field: series, sort: null },
      y: { field: 'value', type: 'quantitative', title: yTitle, scale: { domain: [0, 1] } },
      color: { field: series, type: 'nominal', title: null, sort: null },
    },
  } as TopLevelSpec;
}
