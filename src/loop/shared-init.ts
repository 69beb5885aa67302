/** Sharing rounds between runs. Every method starts from the same SFT model, and every method but
 * `sft` from the same R-Tuning model made from it; `fixed-c1` and `autocei` also run the same EI
 * round and first curriculum stage. Each is the same computation whenever everything it depends on
 * agrees, so `ceiling compare` lets later methods copy an earlier run's instead of redoing it. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { roundKey, RunStore, type MetricsRow, type RoundRow, type SampleRow } from '../store/run-store.js';
import type { RunConfig } from './config.js';
import { jsonHash } from '../util/hash.js';

/** `sft`: SFT on the gold solutions. `rtuning`: the R-Tuning model fine-tuned from it. */
export type SharedPhase = 'sft' | 'rtuning';

export interface SharedRound {
  /** The checkpoint's files (a flat directory). */
  files: Record<string, Buffer>;
  trainLoss: number | null;
  trainExamples: number;
  losses: { step: number; loss: number }[];
  from: string;
}

/** How R-Tuning makes its refusal examples (see rtuningExamples): a run records it with its
 * R-Tuning model, and only a model recorded with the same is copied. */
const REFUSAL_EXAMPLES = 'gold chain cut before its end';

/** What a run's model of `phase` depends on: two runs with equal keys train identical models. */
export function sharedKey(config: RunConfig, phase: SharedPhase): string {
  const { domain, seed, problems, model, init } = config;
  const sft = { domain, seed, problems, model, init: { epochs: init.epochs, batchSize: init.batchSize, lr: init.lr } };
  if (phase === 'sft') return JSON.stringify(sft);
  // The probe answers with eval.maxTokens; the fine-tuning uses the EI rounds' settings.
  // `refusals` names how refusal examples are made, so models made another way are not shared.
  const { epochs, batchSize, lr } = config.ei;
  return JSON.stringify({ ...sft, refusalFraction: init.refusalFraction, probeProblems: init.probeProblems, probeTokens: config.eval.maxTokens, finetune: { epochs, batchSize, lr }, refusals: REFUSAL_EXAMPLES });
}

/** The round holding a run's SFT model: sft runs train only that model, as their `init`. */
export function sftPhase(method: RunConfig['method']): 'init' | 'sft' {
  return method === 'sft' ? 'init' : 'sft';
}

/** Where a run keeps its model of `phase` (sft runs have no R-Tuning model). */
function roundOf(method: RunConfig['method'], phase: SharedPhase): string | null {
  if (phase === 'rtuning') return method === 'sft' ? null : 'init';
  return sftPhase(method);
}

/** The finished model of `phase` in the first of `donorDirs` that trained the one `config` would
 * train; null when none did (then the caller trains its own). */
export function findSharedRound(donorDirs: readonly string[], config: RunConfig, phase: SharedPhase): SharedRound | null {
  for (const dir of donorDirs) {
    const found = sharedRoundIn(dir, config, phase);
    if (found) return found;
  }
  return null;
}

function sharedRoundIn(donorDir: string, config: RunConfig, phase: SharedPhase): SharedRound | null {
  const configFile = join(donorDir, 'config.json');
  const dbFile = join(donorDir, 'run.db');
  if (!existsSync(configFile) || !existsSync(dbFile)) return null;
  let donor: RunConfig;
  try {
    donor = JSON.parse(readFileSync(configFile, 'utf8')) as RunConfig;
  } catch {
    return null;
  }
  const phaseName = roundOf(donor.method, phase);
  if (phaseName === null || sharedKey(donor, phase) !== sharedKey(config, phase)) return null;
  const store = RunStore.open(dbFile);
  try {
    // An R-Tuning model counts only with its lineage recorded, i.e. made as this code makes it.
    if (phase === 'rtuning' && store.getMeta(lineageMeta('init')) !== initLineage(config)) return null;
    const round = store.rounds().find((r) => r.phase === phaseName);
    if (!round || round.checkpoint === null) return null;
    const files = readFlatDir(join(donorDir, round.checkpoint)); // only flat checkpoint directories are copied
    if (!files) return null;
    return { files, trainLoss: round.trainLoss, trainExamples: round.trainExamples, losses: store.trainLoss(round.id), from: donorDir };
  } finally {
    store.close();
  }
}

/** What an expert-iteration round depends on besides the run's initial models: the round's place
 * (its seed), the model it samples from (by that round's lineage), its IDK shaping ('initial' for
 * the EI round whose curriculum comes from its own samples) and every setting that enters
 * sampling, training or the recorded metrics. Two rounds with equal lineages are identical. */
export function roundLineage(config: RunConfig, key: string, from: string, shaping: unknown): string {
  const { ei, eval: evaluation, curriculum } = config;
  const what = { rtuning: sharedKey(config, 'rtuning'), ei, eval: evaluation, lambda: curriculum.lambda, key, from, shaping };
  return jsonHash(what);
}

/** The lineage of a run's R-Tuning model, where the first EI round's lineage starts. */
export const initLineage = (config: RunConfig): string => createHash('sha256').update(sharedKey(config, 'rtuning')).digest('hex');

/** The meta key under which a run records a round's lineage. */
export const lineageMeta = (key: string): string => `lineage:${key}`;

export interface SharedEiRound {
  row: RoundRow;
  files: Record<string, Buffer>;
  samples: SampleRow[];
  metrics: MetricsRow[];
  losses: { step: number; loss: number }[];
  from: string;
}

/** The finished round `key` with this `lineage` in the first of `donorDirs` that has one, with its
 * checkpoint, samples, metrics and losses; null when none does. */
export function findSharedEiRound(donorDirs: readonly string[], key: string, lineage: string): SharedEiRound | null {
  for (const donorDir of donorDirs) {
    const dbFile = join(donorDir, 'run.db');
    if (!existsSync(dbFile)) continue;
    const store = RunStore.open(dbFile);
    try {
      if (store.getMeta(lineageMeta(key)) !== lineage) continue;
      const row = store.rounds().find((r) => roundKey(r) === key);
      // Only a round trained into its own checkpoint directory is copied.
      if (!row || row.checkpoint !== join('checkpoints', key)) continue;
      const files = readFlatDir(join(donorDir, row.checkpoint));
      if (!files) continue;
      const samples = [...store.samples(row.id, 'train'), ...store.samples(row.id, 'val')];
      return { row, files, samples, metrics: store.metrics(row.id, 'val'), losses: store.trainLoss(row.id), from: donorDir };
    } finally {
      store.close();
    }
  }
  return null;
}

/** A flat directory's files, or null when it is missing or holds a subdirectory. */
function readFlatDir(dir: string): Record<string, Buffer> | null {
  if (!existsSync(dir)) return null;
  const files: Record<string, Buffer> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) return null;
    files[name] = readFileSync(path);
  }
  return files;
}
