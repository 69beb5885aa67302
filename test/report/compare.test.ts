import { describe, expect, it } from 'vitest';
import { compareMarkdown, type CompareEntry } from '../../src/report/compare.js';
import { presetConfig, type Method } from '../../src/loop/config.js';
import { summarize } from '../../src/loop/metrics.js';
import type { MetricsRow } from '../../src/store/run-store.js';
import type { VerdictKind } from '../../src/domains/types.js';

/** Held-out metrics of `correct`, `wrong` and `idk` answers. */
function metrics(correct: number, wrong: number, idk: number, difficulty: number | null = null): MetricsRow {
  const verdicts: VerdictKind[] = [...Array(correct).fill('correct'), ...Array(wrong).fill('wrong'), ...Array(idk).fill('idk')];
  return { ...summarize(verdicts, 0.2), split: 'test', difficulty, passAtK: null, majAtK: null };
}

function entry(method: Method, byDifficulty: [number, number, number][]): CompareEntry {
  const sum = (i: number) => byDifficulty.reduce((a, d) => a + d[i]!, 0);
  return {
    method,
    report: {
      config: { ...presetConfig('small', 'blocksworld'), method },
      rounds: [],
      selected: 'init',
      test: { overall: metrics(sum(0), sum(1), sum(2)), byDifficulty: byDifficulty.map(([c, w, i], k) => metrics(c, w, i, k + 3)) },
    },
  };
}

describe('compareMarkdown', () => {
  const entries = [entry('sft', [[99, 1, 0], [56, 44, 0]]), entry('autocei', [[98, 1, 1], [30, 5, 65]])];
  const md = compareMarkdown(entries);

  it('marks the best f and tables refusal by the domain\'s difficulty', () => {
    expect(md).toMatch(/^\| autocei \| 64\.0% \| 95\.5% \| 33\.0% \| 0\.8982 ± 0\.031 \*\*\(best f\)\*\* \| init \|$/m);
    expect(md).toMatch(/^\| sft \| 77\.5% \| 77\.5% \| 0\.0% \| 0\.8200 ± 0\.046 \| init \|$/m);
    expect(md).toContain('## Refusal rate by blocks (held-out test)');
    expect(md).toMatch(/^\| autocei \| 1\.0% \| 65\.0% \|$/m);
  });

  it('states what refusing exactly the sft model\'s failures would score', () => {
    // 155 of 200 right: refusing the other 45 gives precision 1, refusal 22.5%, f = 0.8 + 0.2 · 0.775.
    expect(md).toContain('refusing exactly the problems it gets wrong would reach precision 100.0% at refusal 22.5%, f 0.9550.');
    expect(compareMarkdown(entries.slice(1))).not.toContain('For reference');
  });

  it('tests autocei against each method on the same problems', () => {
    // Both answer problems p0…p99; autocei refuses 15 of the 40 sft gets wrong.
    const verdicts = (wrongRefused: number): Record<string, VerdictKind> =>
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, i < 60 ? 'correct' : i < 60 + wrongRefused ? 'idk' : 'wrong']));
    const withVerdicts = (e: CompareEntry, byProblem: Record<string, VerdictKind>): CompareEntry => ({ ...e, report: { ...e.report, test: { ...e.report.test!, byProblem } } });
    const paired = compareMarkdown([withVerdicts(entries[0]!, verdicts(0)), withVerdicts(entries[1]!, verdicts(15))]);
    expect(paired).toContain('## autocei against each method, problem by problem');
    // f(autocei) = .8·60/85 + .2·.85 = .7347, f(sft) = .68 on these problems.
    expect(paired).toMatch(/^\| sft \| 100 \| \+0\.055 \| \+0\.0\d\d to \+0\.0\d\d \| 100\.0% \|$/m);
    // Without per-problem verdicts (older reports) the section is left out.
    expect(md).not.toContain('problem by problem');
  });
});
