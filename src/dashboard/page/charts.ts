/** Vega-Lite specs for the page, built from API answers. Pure functions: no DOM, so they can be
 * checked without a browser. */
import type { TopLevelSpec } from 'vega-lite';
import { idkReward } from '../../loop/reward.js';
import type { RunSummary } from '../api.js';
import type { MetricsView, RoundView, StageView } from '../queries.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export const METRIC_SERIES = [
  { key: 'f', label: 'f', color: '#1d3557' },
  { key: 'precision', label: 'precision', color: '#2a9d8f' },
  { key: 'accuracy', label: 'accuracy', color: '#e9a23b' },
  { key: 'idkRate', label: 'refusal rate', color: '#d1495b' },
] as const satisfies readonly { key: keyof MetricsView; label: string; color: string }[];

const PHASE_RANK: Record<string, number> = { sft: 0, init: 1, ei: 2, stage: 3, final: 4 };

/** Round keys in training order, across runs that share some of them. */
export function roundOrder(rounds: readonly Pick<RoundView, 'key' | 'phase' | 'stage' | 'round'>[]): string[] {
  const byKey = new Map(rounds.map((r) => [r.key, r]));
  return [...byKey.values()]
    .sort((a, b) => (PHASE_RANK[a.phase] ?? 9) - (PHASE_RANK[b.phase] ?? 9) || (a.stage ?? 0) - (b.stage ?? 0) || a.round - b.round)
    .map((r) => r.key);
}

const roundAxis = (keys: string[]) => ({ field: 'round', type: 'ordinal', sort: keys, title: 'round', axis: { labelAngle: keys.length > 8 ? -45 : 0 } });

/** Validation f, precision, accuracy and refusal rate per round: one point per round and metric. */
export function metricsSpec(rounds: readonly RoundView[]): TopLevelSpec {
  const values = rounds.flatMap((r) =>
    r.overall === null ? [] : METRIC_SERIES.map((s) => ({
      round: r.key, series: s.label, value: r.overall![s.key], stage: r.stage, c1: r.c1, problems: r.overall!.total,
    })),
  );
  return {
    $schema: SCHEMA,
    title: 'Validation per round',
    width: 460,
    height: 240,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 45 } },
    encoding: {
      x: roundAxis(roundOrder(rounds)),
      y: { field: 'value', type: 'quantitative', title: 'value', scale: { domain: [0, 1] } },
      color: {
        field: 'series', type: 'nominal', title: null,
        scale: { domain: METRIC_SERIES.map((s) => s.label), range: METRIC_SERIES.map((s) => s.color) },
        legend: { orient: 'bottom' },
      },
      tooltip: [
        { field: 'round', type: 'nominal' }, { field: 'series', type: 'nominal', title: 'metric' },
        { field: 'value', type: 'quantitative', format: '.3f' }, { field: 'c1', type: 'quantitative', format: '.3f' },
        { field: 'problems', type: 'quantitative' },
      ],
    },
  } as TopLevelSpec;
}

/** Training loss per step, one line per round. */
export function lossSpec(losses: RunSummary['losses'], rounds: readonly RoundView[]): TopLevelSpec {
  const keys = roundOrder(rounds).filter((k) => losses.some((l) => l.round === k));
  return {
    $schema: SCHEMA,
    title: 'Training loss',
    width: 440,
    height: 240,
    data: { values: losses },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
      color: { field: 'round', type: 'ordinal', sort: keys, title: 'round', scale: { scheme: 'viridis' }, legend: { orient: 'right', columns: keys.length > 14 ? 2 : 1 } },
      tooltip: [{ field: 'round', type: 'nominal' }, { field: 'step', type: 'quantitative' }, { field: 'loss', type: 'quantitative', format: '.4f' }],
    },
  } as TopLevelSpec;
}

/** c1 for every curriculum value tried, in order (the hill climb's path). */
export function curriculumSpec(stages: readonly StageView[]): TopLevelSpec {
  const values = stages.map((s) => ({ stage: s.label, c1: s.c1, c2: s.c2, rounds: s.rounds, bestF: s.bestF }));
  return {
    $schema: SCHEMA,
    title: 'Curriculum c1 per stage',
    width: 360,
    height: 220,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 60, color: '#6a4c93' }, color: '#6a4c93' },
    encoding: {
      x: { field: 'stage', type: 'ordinal', sort: values.map((v) => v.stage), title: null, axis: { labelAngle: 0 } },
      y: { field: 'c1', type: 'quantitative', title: 'c1 (steps)', scale: { zero: false } },
      tooltip: [
        { field: 'stage', type: 'nominal' }, { field: 'c1', type: 'quantitative', format: '.3f' }, { field: 'c2', type: 'quantitative', format: '.3f' },
        { field: 'rounds', type: 'quantitative' }, { field: 'bestF', type: 'quantitative', format: '.4f', title: 'best f' },
      ],
    },
  } as TopLevelSpec;
}

/** Depths shown for R_idk: wide enough to see both plateaus of the sigmoid. */
export function rewardDepthRange(c1: number, c2: number): number {
  const spread = c2 > 0 ? 3 / c2 : 10;
  return Math.min(200, Math.max(6, Math.ceil(2 * c1), Math.ceil(c1 + spread)));
}

/** R_idk(depth) for the latest curriculum, with c1 and the rewards of answers for reference. */
export function rewardSpec(c1: number, c2: number, label: string): TopLevelSpec {
  const max = rewardDepthRange(c1, c2);
  const step = max / 200;
  const curve = Array.from({ length: 201 }, (_, i) => ({ depth: i * step, reward: idkReward(i * step, c1, c2) }));
  return {
    $schema: SCHEMA,
    title: { text: 'Refusal reward R_idk(depth)', subtitle: `${label}: c1 = ${c1.toFixed(3)}, c2 = ${c2.toFixed(3)}` },
    width: 360,
    height: 220,
    layer: [
      {
        data: { values: [{ y: 1, label: 'correct +1' }, { y: -1, label: 'wrong −1' }, { y: 0, label: '' }] },
        layer: [
          { mark: { type: 'rule', color: '#bbb', strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
          { mark: { type: 'text', align: 'right', dx: -4, dy: -6, color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { datum: max }, text: { field: 'label' } } },
        ],
      },
      {
        data: { values: [{ c1 }] },
        layer: [
          { mark: { type: 'rule', color: '#6a4c93', strokeDash: [2, 2] }, encoding: { x: { field: 'c1', type: 'quantitative' } } },
          { mark: { type: 'text', align: 'left', dx: 4, dy: 4, color: '#6a4c93' }, encoding: { x: { field: 'c1', type: 'quantitative' }, y: { datum: -0.85 }, text: { value: 'c1' } } },
        ],
      },
      {
        data: { values: curve },
        mark: { type: 'line', color: '#d1495b', strokeWidth: 2 },
        encoding: {
          x: { field: 'depth', type: 'quantitative', title: 'depth (reasoning steps before the refusal)', scale: { domain: [0, max], nice: false } },
          y: { field: 'reward', type: 'quantitative', title: 'reward', scale: { domain: [-1.1, 1.1], nice: false } },
          tooltip: [{ field: 'depth', type: 'quantitative', format: '.2f' }, { field: 'reward', type: 'quantitative', format: '.3f' }],
        },
      },
    ],
  } as TopLevelSpec;
}

export type CalibrationMetric = 'idkRate' | 'accuracy';

export const FINAL_LABEL = 'final (test)';

/** One cell per round × difficulty: validation rounds in order, then the held-out test. */
export function calibrationRows(rounds: readonly RoundView[], final: RoundView | null, metric: CalibrationMetric) {
  const rows = [...rounds, ...(final ? [final] : [])].flatMap((r) =>
    r.byDifficulty.map((m) => ({ round: r.phase === 'final' ? FINAL_LABEL : r.key, difficulty: m.difficulty, value: m[metric], problems: m.total })),
  );
  return rows;
}

export function calibrationSpec(rounds: readonly RoundView[], final: RoundView | null, metric: CalibrationMetric): TopLevelSpec {
  const values = calibrationRows(rounds, final, metric);
  const order = [...roundOrder(rounds), ...(final ? [FINAL_LABEL] : [])];
  const title = metric === 'idkRate' ? 'Refusal rate by difficulty' : 'Accuracy by difficulty';
  const scheme = metric === 'idkRate' ? 'orangered' : 'greens';
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: 'validation per round; last row: held-out test of the selected model' },
    width: { step: 38 },
    height: { step: 20 },
    data: { values },
    encoding: {
      x: { field: 'difficulty', type: 'ordinal', title: 'difficulty', axis: { labelAngle: 0 } },
      y: { field: 'round', type: 'ordinal', sort: order, title: null },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: { field: 'value', type: 'quantitative', title: metric === 'idkRate' ? 'refusal' : 'accuracy', scale: { domain: [0, 1], scheme }, legend: { format: '.0%' } },
          tooltip: [
            { field: 'round', type: 'nominal' }, { field: 'difficulty', type: 'ordinal' },
            { field: 'value', type: 'quantitative', format: '.1%', title: metric === 'idkRate' ? 'refusal rate' : 'accuracy' },
            { field: 'problems', type: 'quantitative' },
          ],
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'value', type: 'quantitative', format: '.0%' },
          color: { condition: { test: 'datum.value > 0.6', value: 'white' }, value: '#222' },
        },
      },
    ],
  } as TopLevelSpec;
}

// ── Several runs side by side ──

export interface RunSeries { name: string; summary: RunSummary }

const COMPARE_METRICS = METRIC_SERIES.map((s) => s.label);

/** Validation metrics per round for every run: one panel per metric, one line per run. */
export function compareRoundsSpec(runs: readonly RunSeries[]): TopLevelSpec {
  const values = runs.flatMap(({ name, summary }) =>
    summary.rounds.flatMap((r) => (r.overall === null ? [] : METRIC_SERIES.map((s) => ({ run: name, round: r.key, metric: s.label, value: r.overall![s.key] })))),
  );
  const keys = roundOrder(runs.flatMap((r) => r.summary.rounds));
  return {
    $schema: SCHEMA,
    title: 'Validation per round',
    data: { values },
    facet: { field: 'metric', type: 'nominal', sort: COMPARE_METRICS, title: null },
    columns: 2,
    spec: {
      width: 330,
      height: 180,
      mark: { type: 'line', point: { filled: true, size: 35 } },
      encoding: {
        x: roundAxis(keys),
        y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
        color: { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.name) },
        tooltip: [{ field: 'run', type: 'nominal' }, { field: 'round', type: 'nominal' }, { field: 'metric', type: 'nominal' }, { field: 'value', type: 'quantitative', format: '.3f' }],
      },
    },
  } as TopLevelSpec;
}

/** Held-out test metrics of each run's selected model. */
export function compareTestSpec(runs: readonly RunSeries[]): TopLevelSpec {
  const values = runs.flatMap(({ name, summary }) => {
    const t = summary.final?.overall;
    return t ? METRIC_SERIES.map((s) => ({ run: name, metric: s.label, value: t[s.key] })) : [];
  });
  return {
    $schema: SCHEMA,
    title: 'Held-out test (selected model)',
    width: 420,
    height: 220,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'metric', type: 'nominal', sort: COMPARE_METRICS, title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'run', sort: runs.map((r) => r.name) },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
      color: { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.name) },
    },
  } as TopLevelSpec;
}

/** Refusal rate and accuracy by difficulty on the held-out test, one line per run. */
export function compareCalibrationSpec(runs: readonly RunSeries[]): TopLevelSpec {
  const values = runs.flatMap(({ name, summary }) =>
    (summary.final?.byDifficulty ?? []).flatMap((m) => [
      { run: name, difficulty: m.difficulty, metric: 'refusal rate', value: m.idkRate },
      { run: name, difficulty: m.difficulty, metric: 'accuracy', value: m.accuracy },
    ]),
  );
  return {
    $schema: SCHEMA,
    title: 'Held-out test by difficulty',
    data: { values },
    facet: { field: 'metric', type: 'nominal', sort: ['refusal rate', 'accuracy'], title: null },
    spec: {
      width: 280,
      height: 180,
      mark: { type: 'line', point: { filled: true, size: 35 } },
      encoding: {
        x: { field: 'difficulty', type: 'ordinal', title: 'difficulty', axis: { labelAngle: 0 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
        color: { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.name) },
        tooltip: [{ field: 'run', type: 'nominal' }, { field: 'difficulty', type: 'ordinal' }, { field: 'metric', type: 'nominal' }, { field: 'value', type: 'quantitative', format: '.1%' }],
      },
    },
  } as TopLevelSpec;
}
