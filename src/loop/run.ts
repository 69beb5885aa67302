/** One run of a method, as a sequence of rounds recorded in the run database. Every decision
 * (curriculum moves, stage stops, best-model choice) is recomputed from recorded rounds, so a run
 * killed at any moment resumes where it stopped: finished rounds are read back, the unfinished one
 * is redone with the same seed. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Domain, Problem } from '../domains/types.js';
import { refusalCompletion } from '../domains/response.js';
import type { Example, Policy, PolicyFactory, Trainer } from '../policies/types.js';
import { roundKey, type Phase, type RoundRow, type RunStore, type SampleRow } from '../store/run-store.js';
import { createRng } from '../util/random.js';
import type { RunConfig } from './config.js';
import { bestIndex, initCurriculum, nextC1, stageConverged, type Curriculum } from './curriculum.js';
import type { Progress } from './progress.js';
import { buildDataset, evaluate, pct, sampleAndVerify, type Evaluation } from './round.js';
import type { IdkShaping } from './reward.js';
import { makeSplits } from './splits.js';
import { findSharedEiRound, findSharedRound, initLineage, lineageMeta, roundLineage, sftPhase, type SharedPhase } from './shared-init.js';
import { writeDirAtomicSync } from '../util/atomic.js';

export interface RunDeps {
  domain: Domain;
  trainer: Trainer;
  openPolicy: PolicyFactory;
  progress: Progress;
  /** Finished runs whose initial models (SFT, R-Tuning) and EI rounds this run may copy when it
   * would compute identical ones (see shared-init.ts); compare passes the runs before it, `run`
   * the `--reuse` directories. */
  initFrom?: readonly string[];
}

export interface RunResult {
  /** The round whose model was selected on validation f. */
  best: RoundRow;
  /** The held-out evaluation of that model. */
  final: RoundRow;
}

/** Lower bound for the resampling temperature T (= the initial model's precision). */
const MIN_T = 0.05;

interface Key { phase: Phase; stage: number | null; round: number }


function roundSeed(seed: number, k: Key): number {
  let h = seed >>> 0;
  for (const ch of `${k.phase}/${k.stage}/${k.round}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

export async function runMethod(dir: string, config: RunConfig, store: RunStore, deps: RunDeps): Promise<RunResult> {
  const { domain, trainer, openPolicy, progress } = deps;
  const log = progress.log;
  const abs = (rel: string): string => join(dir, rel);

  // Problems: generated once, then always read back from the database.
  if (!store.hasProblems()) {
    const splits = makeSplits(domain, config.seed, config.problems.difficulties, config.problems);
    for (const split of ['train', 'val', 'test'] as const) store.insertProblems(split, splits[split], (p) => domain.goldCompletion(p));
  }
  const train = store.problems('train');
  const val = store.problems('val');
  const test = store.problems('test');
  log(`problems: ${train.length} train, ${val.length} validation, ${test.length} held-out test (difficulties ${config.problems.difficulties.join(', ')})`);

  const done = (k: Key): RoundRow | undefined =>
    store.rounds().find((r) => r.phase === k.phase && r.stage === k.stage && r.round === k.round);

  const valScore = (row: RoundRow) => {
    const m = store.metrics(row.id, 'val').find((x) => x.difficulty === null)!;
    return { precision: m.precision, idkRate: m.idkRate, f: m.f };
  };

  // One policy open at a time: the one sampling now.
  const open: { checkpoint?: string; policy?: Policy } = {};
  const policyFor = async (checkpoint: string): Promise<Policy> => {
    if (open.checkpoint === checkpoint && open.policy) return open.policy;
    await open.policy?.close?.();
    open.policy = await openPolicy(abs(checkpoint));
    open.checkpoint = checkpoint;
    return open.policy;
  };

  const evalVal = async (checkpoint: string, seed: number): Promise<Evaluation> =>
    evaluate(await policyFor(checkpoint), domain, val, 'val', { maxTokens: config.eval.maxTokens, k: config.eval.k, seed, lambda: config.curriculum.lambda }, progress);

  /** A round's checkpoint directory, relative to the run (its parent created). */
  const checkpointDir = (k: Key): string => {
    mkdirSync(abs('checkpoints'), { recursive: true });
    return join('checkpoints', roundKey(k));
  };

  const trainRound = async (k: Key, examples: Example[], base: string | null, hp: { epochs: number; batchSize: number; lr: number }) => {
    const rel = checkpointDir(k);
    const task = progress.task(`train ${roundKey(k)}`, 1);
    const losses: { step: number; loss: number }[] = [];
    const result = await trainer.train({
      examples, base: base === null ? null : abs(base), outDir: abs(rel), seed: roundSeed(config.seed, k), ...hp,
      onProgress: (step, total, loss) => {
        losses.push({ step, loss });
        task.update(step / total, `loss ${loss.toFixed(3)}`);
      },
      log: (line) => log(`train ${roundKey(k)}: ${line}`),
    });
    task.stop(`${examples.length} examples, ${result.steps} steps, loss ${result.loss.toFixed(4)}`);
    return { checkpoint: rel, loss: result.loss, losses };
  };

  type Trained = { checkpoint: string; loss: number | null; losses: { step: number; loss: number }[]; examples: number };

  /** A round trained on what `prepare` gives, or copied from an earlier run that trained the same
   * model (then nothing is prepared). */
  const trainOrCopy = async (
    k: Key, phase: SharedPhase, prepare: () => Promise<{ examples: Example[]; base: string | null }>, hp: { epochs: number; batchSize: number; lr: number },
  ): Promise<Trained> => {
    const shared = findSharedRound(deps.initFrom ?? [], config, phase);
    if (shared) {
      const rel = checkpointDir(k);
      writeDirAtomicSync(abs(rel), shared.files);
      log(`${roundKey(k)}: the same model as ${shared.from}: copied, not retrained`);
      return { checkpoint: rel, loss: shared.trainLoss, losses: shared.losses, examples: shared.trainExamples };
    }
    const { examples, base } = await prepare();
    return { ...(await trainRound(k, examples, base, hp)), examples: examples.length };
  };

  // ── Initialisation. sft: SFT on the gold solutions. The other methods, R-Tuning: that SFT model
  // (round `sft`) answers every training problem greedily; the problems it gets wrong are taught
  // as refusals (gold chain cut at a random step + the refusal sentence), the rest as gold, in a
  // fine-tuning of it (round `init`). Refusals then sit where the model fails, not at random. ──
  const sftKey: Key = { phase: sftPhase(config.method), stage: null, round: 0 };
  const initKey: Key = { phase: 'init', stage: null, round: 0 };
  const sftRound = async (): Promise<RoundRow> => {
    const existing = done(sftKey);
    if (existing) return existing;
    const t = await trainOrCopy(sftKey, 'sft', async () => ({ examples: goldExamples(domain, train), base: null }), config.init);
    // Seeded as round `sft` whatever the method, so one SFT model gets one pass@k in every run.
    const ev = await evalVal(t.checkpoint, roundSeed(config.seed, { phase: 'sft', stage: null, round: 0 }));
    return record(store, sftKey, { c1: null, c2: null, checkpoint: t.checkpoint, trainLoss: t.loss, trainExamples: t.examples }, ev, [], t.losses);
  };
  const sft = await sftRound();
  let init = config.method === 'sft' ? sft : done(initKey);
  if (!init) {
    let probe: SampleRow[] = [];
    const t = await trainOrCopy(initKey, 'rtuning', async () => {
      const policy = await policyFor(sft.checkpoint!);
      const seed = roundSeed(config.seed, initKey);
      const probed = roundProblems(train, config.init.probeProblems, seed);
      const run = await sampleAndVerify(policy, domain, probed, 'train',
        { n: 1, temperature: 0, maxTokens: config.eval.maxTokens, seed }, progress, 'probe sft');
      probe = run.samples;
      const solved = run.verdicts.map((v) => v[0]?.verdict === 'correct');
      return { examples: rtuningExamples(domain, probed, solved, config.init.refusalFraction, config.seed), base: sft.checkpoint };
    }, config.ei);
    const ev = await evalVal(t.checkpoint, roundSeed(config.seed, initKey));
    init = record(store, initKey, { c1: null, c2: null, checkpoint: t.checkpoint, trainLoss: t.loss, trainExamples: t.examples }, ev, probe, t.losses,
      { [lineageMeta('init')]: initLineage(config) });
  }
  const initScore = valScore(init);
  log(`init: validation precision ${pct(initScore.precision)}, refusal ${pct(initScore.idkRate)}, f ${initScore.f.toFixed(4)}`);

  const candidates: RoundRow[] = [];
  if (config.method === 'sft' || config.method === 'rtuning') {
    candidates.push(init);
  } else {
    const T = Math.max(initScore.precision, MIN_T);
    /** The lineage a round records (see roundLineage); a round recorded without one is never shared. */
    const lineageOf = (row: RoundRow): string =>
      row.phase === 'init' ? initLineage(config) : store.getMeta(lineageMeta(roundKey(row))) ?? `unrecorded:${dir}:${roundKey(row)}`;

    /** One expert-iteration round: sample the train set from `from`, reward, resample, train, evaluate. */
    const eiRound = async (k: Key, from: RoundRow, shaping: IdkShaping | ((samples: SampleRow[]) => IdkShaping)): Promise<RoundRow> => {
      const existing = done(k);
      if (existing) return existing;
      const key = roundKey(k);
      const lineage = roundLineage(config, key, lineageOf(from), typeof shaping === 'function' ? 'initial' : shaping);
      const shared = findSharedEiRound(deps.initFrom ?? [], key, lineage);
      if (shared) {
        writeDirAtomicSync(abs(checkpointDir(k)), shared.files);
        const { c1, c2, checkpoint, trainLoss, trainExamples, f } = shared.row;
        const id = store.insertRound({ ...k, c1, c2, checkpoint, trainLoss, trainExamples, f }, shared.samples, shared.metrics, shared.losses, { [lineageMeta(key)]: lineage });
        log(`${key}: the same round as in ${shared.from}: copied, not rerun`);
        return store.rounds().find((r) => r.id === id)!;
      }
      const seed = roundSeed(config.seed, k);
      const policy = await policyFor(from.checkpoint!);
      const problems = roundProblems(train, config.ei.problemsPerRound, seed);
      const { samples, verdicts } = await sampleAndVerify(policy, domain, problems, 'train',
        { n: config.ei.n, temperature: config.ei.temperature, maxTokens: config.ei.maxTokens, seed }, progress, `sample ${key}`);
      const s = typeof shaping === 'function' ? shaping(samples) : shaping;
      const examples = buildDataset(problems, samples, verdicts, s, config.ei.n, T, seed);
      const base = config.ei.mode === 'fromBase' ? init!.checkpoint : from.checkpoint;
      // Every sample wrong leaves nothing to learn from: the round keeps the sampling model.
      const t = examples.length > 0
        ? await trainRound(k, examples, base, config.ei)
        : (log(`${key}: every sample was wrong; no training this round`), { checkpoint: from.checkpoint!, loss: null, losses: [] });
      const ev = await evalVal(t.checkpoint, seed + 1);
      const curriculum = s.kind === 'curriculum' ? { c1: s.c1, c2: s.c2 } : { c1: null, c2: null };
      const row = record(store, k, { ...curriculum, checkpoint: t.checkpoint, trainLoss: t.loss, trainExamples: examples.length }, ev, samples, t.losses, { [lineageMeta(key)]: lineage });
      const sc = valScore(row);
      log(`${key}: validation precision ${pct(sc.precision)}, refusal ${pct(sc.idkRate)}, f ${sc.f.toFixed(4)}${s.kind === 'curriculum' ? ` (c1 ${s.c1.toFixed(3)}, c2 ${s.c2.toFixed(3)})` : ''}`);
      return row;
    };

    /** Up to roundsPerStage rounds from `start`, stopping early when validation settles. */
    const stage = async (k: (r: number) => Key, start: RoundRow, shaping: IdkShaping, rounds: number): Promise<RoundRow[]> => {
      const rows: RoundRow[] = [];
      let from = start;
      for (let r = 1; r <= rounds; r++) {
        const row = await eiRound(k(r), from, shaping);
        rows.push(row);
        if (rows.length >= 2 && stageConverged(valScore(rows[rows.length - 2]!), valScore(row), config.curriculum.tolerance)) break;
        from = row;
      }
      return rows;
    };

    if (config.method === 'ei') {
      candidates.push(...(await stage((r) => ({ phase: 'ei', stage: null, round: r }), init, { kind: 'wrong' }, config.ei.rounds)));
    } else {
      // EI baseline round: the initial curriculum, set from the IDK depths of the initial model's samples.
      let curriculum: Curriculum | null = null;
      const fromSamples = (samples: SampleRow[]): Curriculum => {
        const idk = samples.filter((s) => s.verdict === 'idk').map((s) => s.depth);
        // A model that never refused gives no depths: fall back to the depths of all its samples.
        return initCurriculum(idk.length > 0 ? idk : samples.map((s) => s.depth));
      };
      const eiKey: Key = { phase: 'ei', stage: null, round: 1 };
      const baseline = await eiRound(eiKey, init, (samples) => {
        curriculum = fromSamples(samples);
        return { kind: 'curriculum', ...curriculum };
      });
      curriculum ??= fromSamples(store.samples(baseline.id, 'train'));
      const { c2, step } = curriculum;
      log(`curriculum: c1 ${curriculum.c1.toFixed(3)}, c2 ${c2.toFixed(3)}, step ${step.toFixed(3)}`);
      candidates.push(baseline);

      const stages: { c1: number; f: number }[] = [];
      let c1: number | null = curriculum.c1;
      let start = baseline;
      for (let s = 1; c1 !== null && s <= config.curriculum.maxStages; s++) {
        const rows = await stage((r) => ({ phase: 'stage', stage: s, round: r }), start, { kind: 'curriculum', c1, c2 }, config.curriculum.roundsPerStage);
        candidates.push(...rows);
        const best = rows[bestIndex(rows.map(valScore))]!;
        stages.push({ c1, f: valScore(best).f });
        start = candidates[bestIndex(candidates.map(valScore))]!;
        c1 = config.method === 'fixed-c1' ? c1 : nextC1(stages, valScore(baseline).f, step);
      }
    }
  }

  // ── Selection on validation f, then the held-out test evaluation of the selected model. ──
  const best = candidates[bestIndex(candidates.map(valScore))]!;
  const finalKey: Key = { phase: 'final', stage: null, round: 0 };
  let final = done(finalKey);
  if (!final) {
    const ev = await evaluate(await policyFor(best.checkpoint!), domain, test, 'test',
      { maxTokens: config.eval.maxTokens, k: 0, seed: roundSeed(config.seed, finalKey), lambda: config.curriculum.lambda }, progress);
    final = record(store, finalKey, { c1: best.c1, c2: best.c2, checkpoint: best.checkpoint, trainLoss: null, trainExamples: 0 }, ev, [], [], { selected: roundKey(best) });
  }
  await open.policy?.close?.();
  const m = store.metrics(final.id, 'test').find((x) => x.difficulty === null)!;
  log(`held-out test (${roundKey(best)} model): accuracy ${pct(m.accuracy)}, precision ${pct(m.precision)}, refusal ${pct(m.idkRate)}, f ${m.f.toFixed(4)}`);
  return { best, final };
}

function record(
  store: RunStore, k: Key, row: { c1: number | null; c2: number | null; checkpoint: string | null; trainLoss: number | null; trainExamples: number },
  ev: Evaluation, trainSamples: SampleRow[], losses: { step: number; loss: number }[], meta: Record<string, string> = {},
): RoundRow {
  const id = store.insertRound({ ...k, ...row, f: ev.overall.f }, [...trainSamples, ...ev.samples], ev.metrics, losses, meta);
  return store.rounds().find((r) => r.id === id)!;
}

/** The training problems a round samples: all of them, or a seeded random subset of `count`. */
export function roundProblems(train: readonly Problem[], count: number, seed: number): readonly Problem[] {
  if (count <= 0 || count >= train.length) return train;
  return createRng(seed ^ 0x5e1ec7).shuffle([...train]).slice(0, count);
}

/** The SFT data: every gold solution. */
export function goldExamples(domain: Domain, problems: readonly Problem[]): Example[] {
  return problems.map((p) => ({ prompt: p.prompt, completion: domain.goldCompletion(p) }));
}

/** The R-Tuning data: each problem's gold solution, except that a `refusalFraction` share of the
 * problems not `solved` get a refusal instead: the gold chain cut after 0 to len − 1 of its
 * steps, then the refusal sentence. Never after all of them: a whole plan is the answer, and a
 * refusal after a finished chain would teach giving up on work already done. */
export function rtuningExamples(domain: Domain, problems: readonly Problem[], solved: readonly boolean[], refusalFraction: number, seed: number): Example[] {
  const rng = createRng(seed ^ 0x12e7);
  return problems.map((p, i) => {
    const refuse = !solved[i] && rng.next() < refusalFraction;
    return { prompt: p.prompt, completion: refuse ? refusalCompletion(p.goldSteps, rng.int(0, Math.max(0, p.goldSteps.length - 1))) : domain.goldCompletion(p) };
  });
}
