/** The run database: one SQLite file per run directory (`run.db`), so results can be queried with
 * any SQLite client. Every finished unit of work is written in one transaction, which is what makes
 * a killed run resumable: a round either is in the database with all its samples and metrics, or is
 * not there at all. */
import sqlite from 'node-sqlite3-wasm';
import type { Problem, VerdictKind } from '../domains/types.js';
import type { Metrics } from '../loop/metrics.js';

const { Database } = sqlite;
type Db = InstanceType<typeof Database>;

export type Split = 'train' | 'val' | 'test';

/** What produced a model: the R-Tuning/SFT initialisation, the EI baseline round, a curriculum
 * round, or the final held-out evaluation. */
export type Phase = 'sft' | 'init' | 'ei' | 'stage' | 'final';

export interface RoundRow {
  id: number;
  phase: Phase;
  stage: number | null;
  round: number;
  c1: number | null;
  c2: number | null;
  checkpoint: string | null;
  trainLoss: number | null;
  trainExamples: number;
  /** Validation f (the selection criterion). */
  f: number;
  finishedAt: string;
}

/** A round's name in logs, reports and checkpoint directories: sft, init, ei-r1, s2-r3, final. */
export const roundKey = (r: Pick<RoundRow, 'phase' | 'stage' | 'round'>): string =>
  r.phase === 'stage' ? `s${r.stage}-r${r.round}` : r.phase === 'ei' ? `ei-r${r.round}` : r.phase;

export interface SampleRow {
  problemId: string;
  split: Split;
  index: number;
  response: string;
  verdict: VerdictKind;
  depth: number;
  reason: string | null;
  reward: number | null;
}

export interface MetricsRow extends Metrics {
  split: Split;
  /** null = all difficulties together. */
  difficulty: number | null;
  passAtK: number | null;
  majAtK: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS problems (
  id TEXT PRIMARY KEY, split TEXT NOT NULL, difficulty INTEGER NOT NULL, prompt TEXT NOT NULL,
  gold TEXT NOT NULL, problem TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (
  id INTEGER PRIMARY KEY, phase TEXT NOT NULL, stage INTEGER, round INTEGER NOT NULL,
  c1 REAL, c2 REAL, checkpoint TEXT, train_loss REAL, train_examples INTEGER NOT NULL,
  f REAL NOT NULL, finished_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
  round_id INTEGER NOT NULL REFERENCES rounds(id), problem_id TEXT NOT NULL, split TEXT NOT NULL,
  sample_index INTEGER NOT NULL, response TEXT NOT NULL, verdict TEXT NOT NULL, depth INTEGER NOT NULL,
  reason TEXT, reward REAL);
CREATE INDEX IF NOT EXISTS samples_round ON samples(round_id, split);
CREATE TABLE IF NOT EXISTS metrics (
  round_id INTEGER NOT NULL REFERENCES rounds(id), split TEXT NOT NULL, difficulty INTEGER,
  total INTEGER NOT NULL, correct INTEGER NOT NULL, wrong INTEGER NOT NULL, idk INTEGER NOT NULL,
  accuracy REAL NOT NULL, precision REAL NOT NULL, idk_rate REAL NOT NULL, f REAL NOT NULL,
  pass_at_k REAL, maj_at_k REAL);
CREATE TABLE IF NOT EXISTS train_loss (round_id INTEGER NOT NULL, step INTEGER NOT NULL, loss REAL NOT NULL);
`;

export class RunStore {
  private constructor(private readonly db: Db) {}

  static open(file: string): RunStore {
    const db = new Database(file);
    db.exec(SCHEMA);
    return new RunStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one transaction: all of it lands, or none of it. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  getMeta(key: string): string | null {
    const row = this.db.get('SELECT value FROM meta WHERE key = ?', [key]) as { value: string } | null;
    return row ? row.value : null;
  }

  setMeta(key: string, value: string): void {
    this.db.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  hasProblems(): boolean {
    return (this.db.get('SELECT COUNT(*) AS n FROM problems') as { n: number }).n > 0;
  }

  insertProblems(split: Split, problems: readonly Problem[], gold: (p: Problem) => string): void {
    this.transaction(() => {
      for (const p of problems) {
        this.db.run('INSERT INTO problems (id, split, difficulty, prompt, gold, problem) VALUES (?, ?, ?, ?, ?, ?)', [
          p.id, split, p.difficulty, p.prompt, gold(p), JSON.stringify(p),
        ]);
      }
    });
  }

  problems(split: Split): Problem[] {
    const rows = this.db.all('SELECT problem FROM problems WHERE split = ? ORDER BY rowid', [split]) as { problem: string }[];
    return rows.map((r) => JSON.parse(r.problem) as Problem);
  }

  /** Records a finished round with everything it produced, in one transaction. Returns its id. */
  insertRound(
    round: Omit<RoundRow, 'id' | 'finishedAt'>,
    samples: readonly SampleRow[],
    metrics: readonly MetricsRow[],
    losses: readonly { step: number; loss: number }[],
    meta: Readonly<Record<string, string>> = {},
  ): number {
    return this.transaction(() => {
      for (const [key, value] of Object.entries(meta)) this.setMeta(key, value);
      this.db.run(
        `INSERT INTO rounds (phase, stage, round, c1, c2, checkpoint, train_loss, train_examples, f, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [round.phase, round.stage, round.round, round.c1, round.c2, round.checkpoint, round.trainLoss,
          round.trainExamples, round.f, new Date().toISOString()],
      );
      const id = (this.db.get('SELECT last_insert_rowid() AS id') as { id: number }).id;
      const insSample = this.db.prepare(
        `INSERT INTO samples (round_id, problem_id, split, sample_index, response, verdict, depth, reason, reward)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      try {
        for (const s of samples) {
          insSample.run([id, s.problemId, s.split, s.index, s.response, s.verdict, s.depth, s.reason, s.reward]);
        }
      } finally {
        insSample.finalize();
      }
      for (const m of metrics) {
        this.db.run(
          `INSERT INTO metrics (round_id, split, difficulty, total, correct, wrong, idk, accuracy, precision, idk_rate, f, pass_at_k, maj_at_k)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, m.split, m.difficulty, m.total, m.correct, m.wrong, m.idk, m.accuracy, m.precision, m.idkRate, m.f, m.passAtK, m.majAtK],
        );
      }
      for (const l of losses) this.db.run('INSERT INTO train_loss (round_id, step, loss) VALUES (?, ?, ?)', [id, l.step, l.loss]);
      return id;
    });
  }

  rounds(): RoundRow[] {
    const rows = this.db.all('SELECT * FROM rounds ORDER BY id') as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      phase: r.phase as Phase,
      stage: r.stage as number | null,
      round: r.round as number,
      c1: r.c1 as number | null,
      c2: r.c2 as number | null,
      checkpoint: r.checkpoint as string | null,
      trainLoss: r.train_loss as number | null,
      trainExamples: r.train_examples as number,
      f: r.f as number,
      finishedAt: r.finished_at as string,
    }));
  }

  metrics(roundId: number, split: Split): MetricsRow[] {
    const rows = this.db.all('SELECT * FROM metrics WHERE round_id = ? AND split = ? ORDER BY difficulty IS NOT NULL, difficulty', [roundId, split]) as Record<string, unknown>[];
    return rows.map((r) => ({
      split: r.split as Split,
      difficulty: r.difficulty as number | null,
      total: r.total as number,
      correct: r.correct as number,
      wrong: r.wrong as number,
      idk: r.idk as number,
      accuracy: r.accuracy as number,
      precision: r.precision as number,
      idkRate: r.idk_rate as number,
      f: r.f as number,
      passAtK: r.pass_at_k as number | null,
      majAtK: r.maj_at_k as number | null,
    }));
  }

  samples(roundId: number, split: Split): SampleRow[] {
    const rows = this.db.all('SELECT * FROM samples WHERE round_id = ? AND split = ? ORDER BY rowid', [roundId, split]) as Record<string, unknown>[];
    return rows.map((r) => ({
      problemId: r.problem_id as string,
      split: r.split as Split,
      index: r.sample_index as number,
      response: r.response as string,
      verdict: r.verdict as VerdictKind,
      depth: r.depth as number,
      reason: r.reason as string | null,
      reward: r.reward as number | null,
    }));
  }

  trainLoss(roundId: number): { step: number; loss: number }[] {
    return this.db.all('SELECT step, loss FROM train_loss WHERE round_id = ? ORDER BY step', [roundId]) as { step: number; loss: number }[];
  }
}
