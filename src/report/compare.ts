/** One table and plots over several runs of different methods on the same problems. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { difficultyName, type RunReport } from './report.js';
import { fHalfWidth95, objective, pairedFDifference, type PairedDifference } from '../loop/metrics.js';
import { writeFileAtomic } from '../util/atomic.js';
import { barChart, lineChart, renderSvg } from './plots.js';

export interface CompareEntry {
  method: string;
  report: RunReport;
}

const p = (x: number): string => `${(100 * x).toFixed(1)}%`;

export function compareMarkdown(entries: readonly CompareEntry[], paired: readonly PairedRow[] = pairedAgainstAutocei(entries)): string {
  const first = entries[0]?.report.config;
  const lines: string[] = ['# ceiling compare', ''];
  if (first) lines.push(`Domain ${first.domain}, seed ${first.seed}, difficulties ${first.problems.difficulties.join(', ')}, λ = ${first.curriculum.lambda}. Held-out test split, the model each method selected on validation f.`, '');
  lines.push('| method | accuracy | precision | refusal rate | f | selected |', '|---|---|---|---|---|---|');
  const bestF = Math.max(...entries.map((e) => e.report.test?.overall.f ?? -Infinity));
  for (const { method, report } of entries) {
    const t = report.test?.overall;
    if (!t) continue;
    const mark = t.f === bestF ? ' **(best f)**' : '';
    const half = fHalfWidth95(t, report.config.curriculum.lambda);
    const ci = Number.isFinite(half) ? ` ± ${half.toFixed(3)}` : '';
    lines.push(`| ${method} | ${p(t.accuracy)} | ${p(t.precision)} | ${p(t.idkRate)} | ${t.f.toFixed(4)}${ci}${mark} | ${report.selected} |`);
  }
  if (entries.some((e) => e.report.test)) lines.push('', '± is the 95% interval of f over the held-out problems (normal approximation): fs closer than that are not told apart by this test set.');
  lines.push(...pairedSection(paired));
  const oracle = perfectRefusal(entries);
  if (oracle) lines.push('', oracle);
  const knob = difficultyName(first?.domain ?? '');
  const difficulties = [...new Set(entries.flatMap((e) => e.report.test?.byDifficulty.map((m) => m.difficulty!) ?? []))].sort((a, b) => a - b);
  lines.push('', `## Refusal rate by ${knob} (held-out test)`, '', `| method | ${difficulties.join(' | ')} |`, `|---|${difficulties.map(() => '---').join('|')}|`);
  for (const { method, report } of entries) {
    const by = new Map(report.test?.byDifficulty.map((m) => [m.difficulty, m]) ?? []);
    lines.push(`| ${method} | ${difficulties.map((d) => (by.has(d) ? p(by.get(d)!.idkRate) : '–')).join(' | ')} |`);
  }
  lines.push('', `## Accuracy by ${knob} (held-out test)`, '', `| method | ${difficulties.join(' | ')} |`, `|---|${difficulties.map(() => '---').join('|')}|`);
  for (const { method, report } of entries) {
    const by = new Map(report.test?.byDifficulty.map((m) => [m.difficulty, m]) ?? []);
    lines.push(`| ${method} | ${difficulties.map((d) => (by.has(d) ? p(by.get(d)!.accuracy) : '–')).join(' | ')} |`);
  }
  lines.push('', '![metrics by method](plots/methods.svg)', '', `![refusal rate by ${knob}](plots/refusal-by-difficulty.svg)`, '');
  return lines.join('\n');
}

export interface PairedRow extends PairedDifference {
  method: string;
  /** Held-out problems both autocei and this method were tested on. */
  problems: number;
}

/** autocei against each other method on the held-out problems both were tested on: the
 * difference of f with a paired bootstrap interval, which is what says whether one method beats
 * another. Empty without an autocei run or per-problem verdicts (reports written before them). */
export function pairedAgainstAutocei(entries: readonly CompareEntry[]): PairedRow[] {
  const ref = entries.find((e) => e.method === 'autocei')?.report;
  const refVerdicts = ref?.test?.byProblem;
  if (!ref || !refVerdicts) return [];
  return entries.flatMap(({ method, report }) => {
    const other = report.test?.byProblem;
    if (report === ref || !other) return [];
    const ids = Object.keys(refVerdicts).filter((id) => id in other);
    if (ids.length === 0) return [];
    const d = pairedFDifference(ids.map((id) => refVerdicts[id]!), ids.map((id) => other[id]!), ref.config.curriculum.lambda);
    return [{ method, problems: ids.length, ...d }];
  });
}

function pairedSection(rows: readonly PairedRow[]): string[] {
  if (rows.length === 0) return [];
  const s = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(3);
  return ['', '## autocei against each method, problem by problem', '',
    'f(autocei) − f(method) on the same held-out problems, with a 95% paired bootstrap interval (2,000 draws of the problems, seed 0). An interval that excludes 0 is a difference this test set shows.', '',
    '| method | problems | Δf | 95% interval | draws with autocei above |', '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.method} | ${r.problems} | ${s(r.diff)} | ${s(r.low)} to ${s(r.high)} | ${p(r.aAbove)} |`)];
}

/** The reference a refusing method is measured against: the sft model refusing exactly the
 * held-out problems it gets wrong (precision 100%, no accuracy gained). */
function perfectRefusal(entries: readonly CompareEntry[]): string | null {
  const sft = entries.find((e) => e.method === 'sft')?.report;
  const t = sft?.test?.overall;
  if (!sft || !t) return null;
  const precision = t.accuracy > 0 ? 1 : 0; // every answer right; none when it solves nothing
  const idk = 1 - t.accuracy;
  const f = objective(precision, idk, sft.config.curriculum.lambda);
  return `For reference, the sft model refusing exactly the problems it gets wrong would reach precision ${p(precision)} at refusal ${p(idk)}, f ${f.toFixed(4)}.`;
}

export async function writeCompare(dir: string, entries: readonly CompareEntry[]): Promise<void> {
  const bars = entries.flatMap(({ method, report }) => {
    const t = report.test?.overall;
    return t ? [
      { metric: 'accuracy', method, value: t.accuracy },
      { metric: 'precision', method, value: t.precision },
      { metric: 'refusal rate', method, value: t.idkRate },
      { metric: 'f', method, value: t.f },
    ] : [];
  });
  const knob = difficultyName(entries[0]?.report.config.domain ?? '');
  const refusal = entries.flatMap(({ method, report }) => (report.test?.byDifficulty ?? []).map((m) => ({ difficulty: m.difficulty, series: method, value: m.idkRate })));
  await mkdir(join(dir, 'plots'), { recursive: true });
  await writeFileAtomic(join(dir, 'plots', 'methods.svg'), await renderSvg(barChart('Held-out test by method', bars, 'metric', 'method', 'rate')));
  await writeFileAtomic(join(dir, 'plots', 'refusal-by-difficulty.svg'), await renderSvg(lineChart(`Refusal rate by ${knob}`, refusal, { field: 'difficulty', title: knob, ordinal: true }, { title: 'refusal rate', domain: [0, 1] })));
  const methods = entries.map(({ method, report }) => ({ method, selected: report.selected, test: report.test }));
  const paired = pairedAgainstAutocei(entries);
  await writeFileAtomic(join(dir, 'compare.json'), JSON.stringify({ methods, pairedAgainstAutocei: paired }, null, 2) + '\n');
  await writeFileAtomic(join(dir, 'compare.md'), compareMarkdown(entries, paired));
}
