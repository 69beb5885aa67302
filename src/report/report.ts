/** `report.json`, `report.md` and SVG plots for a run directory, from its database alone. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DOMAINS } from '../domains/index.js';
import type { VerdictKind } from '../domains/types.js';
import type { RunConfig } from '../loop/config.js';
import { roundKey, type MetricsRow, type RoundRow, type RunStore } from '../store/run-store.js';

import { writeFileAtomic } from '../util/atomic.js';
import { lineChart, renderSvg } from './plots.js';

/** Points per training in the loss plot: enough to show a plateau and a late drop, few enough
 * that the SVG stays small for an SFT of tens of thousands of steps. */
const LOSS_POINTS = 200;

/** A training's per-step losses as at most `points` window means, each placed at its window's last
 * step: per-step losses of a small batch are too noisy to see a plateau in. */
export function lossCurve(losses: readonly { step: number; loss: number }[], points = LOSS_POINTS): { step: number; loss: number }[] {
  const width = Math.max(1, Math.ceil(losses.length / points));
  const curve: { step: number; loss: number }[] = [];
  for (let i = 0; i < losses.length; i += width) {
    const window = losses.slice(i, i + width);
    curve.push({ step: window.at(-1)!.step, loss: window.reduce((a, l) => a + l.loss, 0) / window.length });
  }
  return curve;
}

export interface RoundReport {
  key: string;
  phase: RoundRow['phase'];
  stage: number | null;
  round: number;
  c1: number | null;
  c2: number | null;
  trainLoss: number | null;
  trainExamples: number;
  val: MetricsRow;
  valByDifficulty: MetricsRow[];
}

export interface RunReport {
  config: RunConfig;
  rounds: RoundReport[];
  /** Key of the round whose model was selected on validation f. */
  selected: string | null;
  /** The selected model on the held-out test split; `byProblem` is its verdict on each problem
   * (by id), which lets methods be compared problem by problem. */
  test: { overall: MetricsRow; byDifficulty: MetricsRow[]; byProblem?: Record<string, VerdictKind> } | null;
}


export function buildReport(config: RunConfig, store: RunStore): RunReport {
  const all = store.rounds();
  const rounds: RoundReport[] = all
    .filter((r) => r.phase !== 'final')
    .map((r) => {
      const m = store.metrics(r.id, 'val');
      return {
        key: roundKey(r), phase: r.phase, stage: r.stage, round: r.round, c1: r.c1, c2: r.c2,
        trainLoss: r.trainLoss, trainExamples: r.trainExamples,
        val: m.find((x) => x.difficulty === null)!, valByDifficulty: m.filter((x) => x.difficulty !== null),
      };
    });
  const final = all.find((r) => r.phase === 'final');
  let test: RunReport['test'] = null;
  let selected: string | null = null;
  if (final) {
    const m = store.metrics(final.id, 'test');
    const byProblem = Object.fromEntries(store.samples(final.id, 'test').map((s) => [s.problemId, s.verdict]));
    test = { overall: m.find((x) => x.difficulty === null)!, byDifficulty: m.filter((x) => x.difficulty !== null), byProblem };
    selected = store.getMeta('selected');
  }
  return { config, rounds, selected, test };
}

/** What the domain's difficulty counts (blocks, depth, …), for table headers and axis titles. */
export const difficultyName = (domain: string): string => DOMAINS[domain]?.difficulty.name ?? 'difficulty';

const p = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const n3 = (x: number | null | undefined): string => (x === null || x === undefined ? '–' : x.toFixed(3));

export function reportMarkdown(report: RunReport): string {
  const c = report.config;
  const knob = difficultyName(c.domain);
  const lines: string[] = [];
  lines.push(`# ceiling run: ${c.method} on ${c.domain}`, '');
  lines.push(`Seed ${c.seed}; difficulties ${c.problems.difficulties.join(', ')}; λ = ${c.curriculum.lambda}; model d=${c.model.dModel}, ${c.model.nLayer} layers, ${c.model.nHead} heads, context ${c.model.contextLength}.`, '');
  if (report.test) {
    const t = report.test.overall;
    lines.push('## Held-out test', '', `Selected model: \`${report.selected}\` (highest validation f).`, '');
    lines.push('| problems | accuracy | precision | refusal rate | f |', '|---|---|---|---|---|');
    lines.push(`| ${t.total} | ${p(t.accuracy)} | ${p(t.precision)} | ${p(t.idkRate)} | ${n3(t.f)} |`, '');
    lines.push(`### By ${knob}`, '', `| ${knob} | problems | accuracy | precision | refusal rate |`, '|---|---|---|---|---|');
    for (const m of report.test.byDifficulty) lines.push(`| ${m.difficulty} | ${m.total} | ${p(m.accuracy)} | ${p(m.precision)} | ${p(m.idkRate)} |`);
    lines.push('');
  }
  lines.push('## Rounds (validation)', '', '| round | c1 | c2 | train examples | train loss | accuracy | precision | refusal rate | f | pass@k | maj@k |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of report.rounds) {
    lines.push(`| ${r.key} | ${n3(r.c1)} | ${n3(r.c2)} | ${r.trainExamples} | ${n3(r.trainLoss)} | ${p(r.val.accuracy)} | ${p(r.val.precision)} | ${p(r.val.idkRate)} | ${n3(r.val.f)} | ${p(r.val.passAtK)} | ${p(r.val.majAtK)} |`);
  }
  lines.push('', '## Plots', '', '![validation metrics per round](plots/rounds.svg)', '', '![c1 per stage](plots/c1.svg)', '', `![held-out test by ${knob}](plots/calibration.svg)`, '', '![training loss](plots/loss.svg)', '');
  return lines.join('\n');
}

export async function writeReport(dir: string, config: RunConfig, store: RunStore): Promise<RunReport> {
  const report = buildReport(config, store);
  const knob = difficultyName(config.domain);
  const curves = report.rounds.flatMap((r) => [
    { round: r.key, series: 'f', value: r.val.f },
    { round: r.key, series: 'precision', value: r.val.precision },
    { round: r.key, series: 'accuracy', value: r.val.accuracy },
    { round: r.key, series: 'refusal rate', value: r.val.idkRate },
  ]);
  const c1 = report.rounds.filter((r) => r.c1 !== null).map((r) => ({ round: r.key, series: 'c1', value: r.c1 }));
  const calibration = report.test
    ? report.test.byDifficulty.flatMap((m) => [
        { difficulty: m.difficulty, series: 'refusal rate', value: m.idkRate },
        { difficulty: m.difficulty, series: 'accuracy', value: m.accuracy },
        { difficulty: m.difficulty, series: 'precision', value: m.precision },
      ])
    : [];
  const losses = store.rounds().flatMap((r) => lossCurve(store.trainLoss(r.id)).map((l) => ({ step: l.step, series: roundKey(r), value: l.loss })));
  const plots: [string, string][] = [
    ['rounds.svg', await renderSvg(lineChart('Validation metrics per round', curves, { field: 'round', title: 'round', ordinal: true }, { title: 'rate', domain: [0, 1] }))],
    ['c1.svg', await renderSvg(lineChart('Curriculum c1 per round', c1, { field: 'round', title: 'round', ordinal: true }, { title: 'c1 (steps)' }))],
    ['calibration.svg', await renderSvg(lineChart(`Held-out test by ${knob}`, calibration, { field: 'difficulty', title: knob, ordinal: true }, { title: 'rate', domain: [0, 1] }))],
    ['loss.svg', await renderSvg(lineChart('Training loss per token (window means)', losses, { field: 'step', title: 'step' }, { title: 'loss', log: true }))],
  ];
  await mkdir(join(dir, 'plots'), { recursive: true });
  for (const [name, svg] of plots) await writeFileAtomic(join(dir, 'plots', name), svg);
  await writeFileAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(join(dir, 'report.md'), reportMarkdown(report));
  return report;
}
