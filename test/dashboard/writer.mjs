// A second process that appends rounds to a run database the way src/store/run-store.ts does:
// one BEGIN IMMEDIATE … COMMIT per round and no busy timeout, so it fails at once if another
// process holds the database lock. Usage: node writer.mjs RUN_DB ROUNDS SAMPLES_PER_ROUND
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Database } = require('node-sqlite3-wasm');

const [file, roundsArg, samplesArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const perRound = Number(samplesArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const db = new Database(file);
try {
  const problems = db.all("SELECT id FROM problems WHERE split = 'train' ORDER BY rowid").map((r) => r.id);
  for (let r = 1; r <= rounds; r++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.run(
        `INSERT INTO rounds (phase, stage, round, c1, c2, checkpoint, train_loss, train_examples, f, finished_at)
         VALUES ('stage', ?, 1, ?, 0.5, NULL, 0.1, ?, 0.5, ?)`,
        [100 + r, 2 + r / 10, perRound, new Date().toISOString()],
      );
      const id = db.get('SELECT last_insert_rowid() AS id').id;
      const ins = db.prepare(
        `INSERT INTO samples (round_id, problem_id, split, sample_index, response, verdict, depth, reason, reward)
         VALUES (?, ?, 'train', ?, ?, ?, ?, ?, ?)`,
      );
      try {
        for (let i = 0; i < perRound; i++) {
          const verdict = ['correct', 'wrong', 'idk'][i % 3];
          ins.run([id, problems[i % problems.length], i, `1\n2\n#### ${i}\n${'padding '.repeat(20)}`, verdict, i % 7,
            verdict === 'wrong' ? 'off by one' : null, verdict === 'correct' ? 1 : verdict === 'wrong' ? -1 : 0]);
        }
      } finally {
        ins.finalize();
      }
      db.run(
        `INSERT INTO metrics (round_id, split, difficulty, total, correct, wrong, idk, accuracy, precision, idk_rate, f, pass_at_k, maj_at_k)
         VALUES (?, 'val', NULL, 16, 8, 4, 4, 0.5, 0.6667, 0.25, 0.6833, NULL, NULL)`,
        [id],
      );
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    // Real rounds are minutes apart; 100 ms still leaves the reader quiet moments to copy in.
    await sleep(100);
  }
} finally {
  db.close();
}
process.stdout.write(`wrote ${rounds} rounds\n`);
