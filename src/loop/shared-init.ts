/** Sharing the initial models between runs. Every method starts from the same SFT model, and every
 * method but `sft` from the same R-Tuning model made from it; each is the same training run
 * whenever the settings it depends on agree, so `ceiling compare` lets later methods copy an
 * earlier run's instead of training it again. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../store/run-store.js';
import type { RunConfig } from './config.js';

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

/** What a run's model of `phase` depends on: two runs with equal keys train identical models. */
export function sharedKey(config: RunConfig, phase: SharedPhase): string {
  const { domain, seed, problems, model, init } = config;
  const sft = { domain, seed, problems, model, init: { epochs: init.epochs, batchSize: init.batchSize, lr: init.lr } };
  if (phase === 'sft') return JSON.stringify(sft);
  // The probe answers with eval.maxTokens; the fine-tuning uses the EI rounds' settings.
  const { epochs, batchSize, lr } = config.ei;
  return JSON.stringify({ ...sft, refusalFraction: init.refusalFraction, probeProblems: init.probeProblems, probeTokens: config.eval.maxTokens, finetune: { epochs, batchSize, lr } });
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
    const round = store.rounds().find((r) => r.phase === phaseName);
    if (!round || round.checkpoint === null) return null;
    const dir = join(donorDir, round.checkpoint);
    if (!existsSync(dir)) return null;
    const files: Record<string, Buffer> = {};
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) return null; // only flat checkpoint directories are copied
      files[name] = readFileSync(path);
    }
    return { files, trainLoss: round.trainLoss, trainExamples: round.trainExamples, losses: store.trainLoss(round.id), from: donorDir };
  } finally {
    store.close();
  }
}
