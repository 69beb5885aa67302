/** Sharing the initial model between runs. Every method but `sft` starts from the same R-Tuning
 * initialisation, which is the same training run whenever the domain, seed, problems, model and
 * init settings agree; `ceiling compare` lets later methods copy the first one's instead of
 * training it again. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RunStore } from '../store/run-store.js';
import type { RunConfig } from './config.js';

export interface SharedInit {
  /** The checkpoint's files (a flat directory). */
  files: Record<string, Buffer>;
  trainLoss: number | null;
  losses: { step: number; loss: number }[];
  from: string;
}

/** What the initial model depends on: two runs with equal keys train identical initial models. */
export function initKey(config: RunConfig): string {
  const refusals = config.method === 'sft' ? 0 : config.init.refusalFraction;
  const { domain, seed, problems, model, init } = config;
  return JSON.stringify({ domain, seed, problems, model, init: { ...init, refusalFraction: refusals } });
}

/** The finished initial model of the run in `donorDir` when it would be identical to the one
 * `config` trains; null when there is none or anything differs (then the caller trains its own). */
export function findSharedInit(donorDir: string, config: RunConfig): SharedInit | null {
  const configFile = join(donorDir, 'config.json');
  const dbFile = join(donorDir, 'run.db');
  if (!existsSync(configFile) || !existsSync(dbFile)) return null;
  let donor: RunConfig;
  try {
    donor = JSON.parse(readFileSync(configFile, 'utf8')) as RunConfig;
  } catch {
    return null;
  }
  if (initKey(donor) !== initKey(config)) return null;
  const store = RunStore.open(dbFile);
  try {
    const init = store.rounds().find((r) => r.phase === 'init');
    if (!init || init.checkpoint === null) return null;
    const dir = join(donorDir, init.checkpoint);
    if (!existsSync(dir)) return null;
    const files: Record<string, Buffer> = {};
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isFile()) return null; // only flat checkpoint directories are copied
      files[name] = readFileSync(path);
    }
    return { files, trainLoss: init.trainLoss, losses: store.trainLoss(init.id), from: donorDir };
  } finally {
    store.close();
  }
}
