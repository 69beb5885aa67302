/** Read-only queries over a run database copy (see snapshot.ts). They follow the schema of
 * src/store/run-store.ts but never create or change anything, and they page samples in SQL so a
 * round with tens of thousands of samples costs one page per request. */
import type { MetricsRow, Phase, SampleRow, Split } from '../store/run-store.js';
import type { VerdictKind } from '../domains/types.js';
import { roundKey } from '../store/run-store.js';
import type { Db } from './snapshot.js';

export const SPLITS: readonly Split[] = ['train', 'val', 'test'];
export const VERDICTS: readonly VerdictKind[] = ['correct', 'wrong', 'idk'];

const TABLES = ['meta', 'problems', 'rounds', 'samples', 'metrics', 'train_loss'] as const;

/** A metrics row as the store records it, without the split (the round's phase implies it). */
export type MetricsView = Omit<MetricsRow, 'split'>;

export interface RoundView {
  id: number;
  key: string;
  phase: Phase;
  stage: number | null;
  round: number;
  c1: number | null;
  c2: number | null;
  trainLoss: number | null;
  trainExamples: number;
  f: number;
  finishedAt: string;
  /** Validation (test for `final`) metrics over all difficulties, and per difficulty. */
  overall: MetricsView | null;
  byDifficulty: MetricsView[];
  /** Number of stored samples per split. */
  samples: Partial<Record<Split, number>>;
}

export interface StageView {
  /** null for the EI baseline round, which sets the initial curriculum. */
  stage: number | null;
  label: string;
  c1: number;
  c2: number;
  rounds: number;
  bestF: number;
}

export interface RunData {
  meta: Record<string, string>;
  problems: { split: Split; count: number }[];
  difficulties: number[];
  /** Every round except `final`, in the order they finished. */
  rounds: RoundView[];
  /** The held-out evaluation of the selected model, once the run is done. */
  final: RoundView | null;
  /** Key of the round whose model `final` evaluated. */
  selected: string | null;
  stages: StageView[];
  /** The curriculum of the latest round that had one. */
  curriculum: { c1: number; c2: number; round: string } | null;
  /** Training loss per step, thinned to at most `MAX_LOSS_POINTS` per round. */
  losses: { round: string; step: number; loss: number }[];
}

export const MAX_LOSS_POINTS = 300;

/** Throws a readable error when the file is a database but not a run database. */
export function checkSchema(db: Db): void {
  const names = new Set((db.all("SELECT name FROM sqlite_master WHERE type = 'table'") as { name: string }[]).map((r) => r.name));
  const missing = TABLES.filter((t) => !names.has(t));
  if (missing.length > 0) throw new Error(`not a ceiling run database (missing table${missing.length > 1 ? 's' : ''} ${missing.join(', ')})`);
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function metricsView(r: Record<string, unknown>): MetricsView {
  return {
    difficulty: numOrNull(r.difficulty),
    total: num(r.total), correct: num(r.correct), wrong: num(r.wrong), idk: num(r.idk),
    accuracy: num(r.accuracy), precision: num(r.precision), idkRate: num(r.idk_rate), f: num(r.f),
    passAtK: numOrNull(r.pass_at_k), majAtK: numOrNull(r.maj_at_k),
  };
}

/** Every round with its metrics, the curriculum path and the training losses. */
export function readRun(db: Db): RunData {
  checkSchema(db);
  const meta: Record<string, string> = {};
  for (const r of db.all('SELECT key, value FROM meta') as { key: string; value: string }[]) meta[r.key] = r.value;
  const problems = (db.all('SELECT split, COUNT(*) AS n FROM problems GROUP BY split') as { split: Split; n: number }[])
    .map((r) => ({ split: r.split, count: num(r.n) }));
  const difficulties = (db.all('SELECT DISTINCT difficulty FROM problems ORDER BY difficulty') as { difficulty: number }[]).map((r) => num(r.difficulty));

  const metricRows = db.all('SELECT * FROM metrics ORDER BY round_id, difficulty IS NOT NULL, difficulty') as Record<string, unknown>[];
  const sampleCounts = db.all('SELECT round_id, split, COUNT(*) AS n FROM samples GROUP BY round_id, split') as { round_id: number; split: Split; n: number }[];

  const all: RoundView[] = (db.all('SELECT * FROM rounds ORDER BY id') as Record<string, unknown>[]).map((r) => {
    const id = num(r.id);
    const phase = r.phase as Phase;
    // Validation measures every round but `final`, which measures the held-out test split.
    const split: Split = phase === 'final' ? 'test' : 'val';
    const metrics = metricRows.filter((m) => num(m.round_id) === id && m.split === split).map(metricsView);
    const samples: Partial<Record<Split, number>> = {};
    for (const c of sampleCounts) if (num(c.round_id) === id) samples[c.split] = num(c.n);
    const base = { phase, stage: numOrNull(r.stage), round: num(r.round) };
    return {
      id, key: roundKey(base), ...base,
      c1: numOrNull(r.c1), c2: numOrNull(r.c2), trainLoss: numOrNull(r.train_loss), trainExamples: num(r.train_examples),
      f: num(r.f), finishedAt: String(r.finished_at),
      overall: metrics.find((m) => m.difficulty === null) ?? null,
      byDifficulty: metrics.filter((m) => m.difficulty !== null),
      samples,
    };
  });
  const rounds = all.filter((r) => r.phase !== 'final');
  const final = all.find((r) => r.phase === 'final') ?? null;
  // Recorded with the final evaluation: a checkpoint alone cannot tell, since a round that had
  // nothing to train on keeps the checkpoint of the round before it.
  const selected = final ? (meta.selected ?? null) : null;

  const keyById = new Map(all.map((r) => [r.id, r.key]));
  const losses: RunData['losses'] = [];
  const lossCounts = db.all('SELECT round_id, COUNT(*) AS n FROM train_loss GROUP BY round_id') as { round_id: number; n: number }[];
  for (const { round_id, n } of lossCounts) {
    const stride = Math.max(1, Math.ceil(num(n) / MAX_LOSS_POINTS));
    // Every stride-th step, plus the last one so each curve ends where training ended.
    const rows = db.all(
      `SELECT step, loss FROM (SELECT step, loss, ROW_NUMBER() OVER (ORDER BY step) - 1 AS i, COUNT(*) OVER () AS n
         FROM train_loss WHERE round_id = ?) WHERE i % ? = 0 OR i = n - 1 ORDER BY step`,
      [round_id, stride],
    ) as { step: number; loss: number }[];
    const round = keyById.get(num(round_id)) ?? `#${round_id}`;
    for (const r of rows) losses.push({ round, step: num(r.step), loss: num(r.loss) });
  }

  return { meta, problems, difficulties, rounds, final, selected, stages: stagesOf(rounds), curriculum: latestCurriculum(rounds), losses };
}

/** The curriculum values in the order they were tried, with each stage's best validation f. */
export function stagesOf(rounds: readonly RoundView[]): StageView[] {
  const stages: StageView[] = [];
  for (const r of rounds) {
    if (r.c1 === null || r.c2 === null) continue;
    const stage = r.phase === 'stage' ? r.stage : null;
    const last = stages.at(-1);
    if (last && last.stage === stage) {
      last.rounds++;
      last.bestF = Math.max(last.bestF, r.f);
    } else {
      stages.push({ stage, label: stage === null ? `${r.key} (baseline)` : `stage ${stage}`, c1: r.c1, c2: r.c2, rounds: 1, bestF: r.f });
    }
  }
  return stages;
}

function latestCurriculum(rounds: readonly RoundView[]): RunData['curriculum'] {
  for (let i = rounds.length - 1; i >= 0; i--) {
    const r = rounds[i]!;
    if (r.c1 !== null && r.c2 !== null) return { c1: r.c1, c2: r.c2, round: r.key };
  }
  return null;
}

export interface SampleQuery {
  roundId: number;
  split: Split;
  verdict?: VerdictKind;
  difficulty?: number;
  /** Substring of the problem id. */
  problem?: string;
  offset: number;
  limit: number;
}

/** A sample row with its problem's difficulty, prompt and gold completion. */
export interface SampleView extends Omit<SampleRow, 'split'> {
  difficulty: number | null;
  prompt: string | null;
  gold: string | null;
}

export interface SamplePage {
  total: number;
  offset: number;
  limit: number;
  /** Counts per verdict under the other filters, for the filter controls. */
  verdicts: Record<VerdictKind, number>;
  items: SampleView[];
}

/** One page of a round's samples, in the order they were recorded, with their problems. */
export function readSamples(db: Db, q: SampleQuery): SamplePage {
  const where = ['s.round_id = ?', 's.split = ?'];
  const args: (string | number)[] = [q.roundId, q.split];
  if (q.difficulty !== undefined) {
    where.push('p.difficulty = ?');
    args.push(q.difficulty);
  }
  if (q.problem !== undefined && q.problem !== '') {
    where.push("instr(s.problem_id, ?) > 0");
    args.push(q.problem);
  }
  const from = 'FROM samples s LEFT JOIN problems p ON p.id = s.problem_id';
  const verdicts: Record<VerdictKind, number> = { correct: 0, wrong: 0, idk: 0 };
  for (const r of db.all(`SELECT s.verdict AS verdict, COUNT(*) AS n ${from} WHERE ${where.join(' AND ')} GROUP BY s.verdict`, args) as { verdict: string; n: number }[]) {
    if (r.verdict in verdicts) verdicts[r.verdict as VerdictKind] = num(r.n);
  }
  if (q.verdict !== undefined) {
    where.push('s.verdict = ?');
    args.push(q.verdict);
  }
  const cond = where.join(' AND ');
  const total = num((db.get(`SELECT COUNT(*) AS n ${from} WHERE ${cond}`, args) as { n: number }).n);
  const rows = db.all(
    `SELECT s.problem_id, s.sample_index, s.response, s.verdict, s.depth, s.reason, s.reward, p.difficulty, p.prompt, p.gold
     ${from} WHERE ${cond} ORDER BY s.rowid LIMIT ? OFFSET ?`,
    [...args, q.limit, q.offset],
  ) as Record<string, unknown>[];
  const items = rows.map((r) => ({
    problemId: String(r.problem_id), difficulty: numOrNull(r.difficulty),
    prompt: (r.prompt as string | null) ?? null, gold: (r.gold as string | null) ?? null,
    index: num(r.sample_index), response: String(r.response), verdict: r.verdict as VerdictKind,
    depth: num(r.depth), reason: (r.reason as string | null) ?? null, reward: numOrNull(r.reward),
  }));
  return { total, offset: q.offset, limit: q.limit, verdicts, items };
}

/** The id of the round with this key (`init`, `ei-r1`, `s2-r3`, `final`), or null. */
export function roundIdByKey(db: Db, key: string): number | null {
  for (const r of db.all('SELECT id, phase, stage, round FROM rounds ORDER BY id') as Record<string, unknown>[]) {
    if (roundKey({ phase: r.phase as Phase, stage: numOrNull(r.stage), round: num(r.round) }) === key) return num(r.id);
  }
  return null;
}
