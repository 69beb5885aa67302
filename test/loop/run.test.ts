/** The run orchestration on a simulated model: a toy domain and a policy whose behaviour is a
 * function of what it was trained on. It checks the sequence of rounds each method records, that a
 * crashed run resumes to the same result, and that the held-out split is never trained on. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Domain, Problem } from '../../src/domains/types.js';
import { counting } from '../helpers/counting.js';
import { readSimModel, simPolicy, simTrainer } from '../helpers/sim-model.js';
import { RunStore } from '../../src/store/run-store.js';
import { runMethod, rtuningExamples } from '../../src/loop/run.js';
import { blocksworld } from '../../src/domains/blocksworld/index.js';
import { REFUSAL } from '../../src/domains/response.js';
import { resolveConfig, type Method, type RunConfig } from '../../src/loop/config.js';
import { silentProgress } from '../../src/loop/progress.js';
import { writeReport } from '../../src/report/report.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function config(method: Method): RunConfig {
  return resolveConfig('demo', {
    domain: 'blocksworld', // any registered name: the test passes its own domain object
    method,
    problems: { difficulties: [1, 2, 3, 4, 5, 6, 7, 8], train: 24, val: 16, test: 16 },
    ei: { n: 4, rounds: 2 },
    curriculum: { maxStages: 3, roundsPerStage: 2 },
  });
}

async function run(method: Method, trainer = simTrainer(), dir = mkdtempSync(join(tmpdir(), 'ceiling-run-')), extra: { initFrom?: string[]; seed?: number; init?: Partial<RunConfig['init']>; evalK?: number; openPolicy?: ReturnType<typeof simPolicy> } = {}) {
  dirs.push(dir);
  const base = config(method);
  const cfg = {
    ...base, ...(extra.seed === undefined ? {} : { seed: extra.seed }),
    ...(extra.init === undefined ? {} : { init: { ...base.init, ...extra.init } }),
    ...(extra.evalK === undefined ? {} : { eval: { ...base.eval, k: extra.evalK } }),
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  const store = RunStore.open(join(dir, 'run.db'));
  try {
    const result = await runMethod(dir, cfg, store, {
      domain: counting as Domain, trainer, openPolicy: extra.openPolicy ?? simPolicy(), progress: silentProgress, ...(extra.initFrom ? { initFrom: extra.initFrom } : {}),
    });
    return { dir, result, rounds: store.rounds(), store: null as unknown, trainer };
  } finally {
    store.close();
  }
}

describe('runMethod', () => {
  it('sft trains once; rtuning fine-tunes that SFT model, and both evaluate on the held-out split', async () => {
    const sft = await run('sft');
    expect(sft.rounds.map((r) => r.phase)).toEqual(['init', 'final']);
    expect(sft.result.best.phase).toBe('init');
    const rt = await run('rtuning');
    expect(rt.rounds.map((r) => r.phase)).toEqual(['sft', 'init', 'final']);
    expect(rt.result.best.phase).toBe('init');
    expect(rt.trainer.calls.map((c) => c.split('/').at(-1))).toEqual(['sft', 'init']);
  });

  it('R-Tuning teaches refusals exactly for the training problems the SFT model gets wrong', async () => {
    const { dir, rounds } = await run('rtuning');
    const store = RunStore.open(join(dir, 'run.db'));
    try {
      const init = rounds.find((r) => r.phase === 'init')!;
      // The probe: one greedy answer per training problem, recorded with the init round.
      const probe = store.samples(init.id, 'train');
      const train = store.problems('train');
      expect(probe).toHaveLength(train.length);
      const sft = readSimModel(join(dir, 'checkpoints', 'sft'));
      const model = readSimModel(join(dir, 'checkpoints', 'init'));
      const target = (p: Problem) => Number(/count to (\d+)/.exec(p.prompt)![1]);
      const failed = train.filter((p) => target(p) > sft.skill).length;
      expect(probe.filter((s) => s.verdict === 'wrong')).toHaveLength(failed);
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThan(train.length);
      // refusalFraction 1: every failed problem became a refusal, every solved one stayed gold.
      expect(model.refuse).toBeCloseTo(failed / train.length, 9);
      expect(init.trainExamples).toBe(train.length);
    } finally {
      store.close();
    }
  });

  it('R-Tuning refusal examples cut the gold chain before its end, at every step count', () => {
    const problems = Array.from({ length: 400 }, (_, i) => blocksworld.generate(i, 4));
    const solved = problems.map((_, i) => i % 2 === 0);
    const examples = rtuningExamples(blocksworld, problems, solved, 1, 7);
    const cuts = new Map<number, Set<number>>(); // plan length → steps kept before the refusal
    examples.forEach((e, i) => {
      const p = problems[i]!;
      if (solved[i]) return expect(e.completion).toBe(blocksworld.goldCompletion(p));
      const lines = e.completion.split('\n');
      expect(lines.at(-1)).toBe(REFUSAL);
      const kept = lines.length - 1;
      expect(lines.slice(0, -1)).toEqual(p.goldSteps.slice(0, kept));
      expect(kept).toBeLessThan(p.goldSteps.length); // a whole plan is an answer, never a refusal
      expect(blocksworld.verify(p, e.completion)).toEqual({ verdict: 'idk', depth: kept });
      if (!cuts.has(p.goldSteps.length)) cuts.set(p.goldSteps.length, new Set());
      cuts.get(p.goldSteps.length)!.add(kept);
    });
    // The most common plan length is cut at each of 0 … len − 1 steps somewhere.
    const [len, seen] = [...cuts].sort((a, b) => b[1].size - a[1].size)[0]!;
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: len }, (_, k) => k));
  });

  it('R-Tuning probes and fine-tunes on a seeded subset of probeProblems training problems', async () => {
    const { dir, rounds } = await run('rtuning', simTrainer(), undefined, { init: { probeProblems: 10 } });
    const store = RunStore.open(join(dir, 'run.db'));
    try {
      const init = rounds.find((r) => r.phase === 'init')!;
      const probed = store.samples(init.id, 'train');
      expect(probed).toHaveLength(10);
      const train = new Set(store.problems('train').map((p) => p.id));
      expect(probed.every((s) => train.has(s.problemId))).toBe(true);
      expect(new Set(probed.map((s) => s.problemId)).size).toBe(10);
      expect(init.trainExamples).toBe(10);
    } finally {
      store.close();
    }
  });

  it('ei runs its rounds with refusals treated as wrong', async () => {
    const { rounds } = await run('ei');
    expect(rounds.map((r) => `${r.phase}${r.round}`)).toEqual(['sft0', 'init0', 'ei1', 'ei2', 'final0']);
    expect(rounds.every((r) => r.c1 === null || r.phase === 'final')).toBe(true);
  });

  it('autocei: init, EI baseline with the initial curriculum, then stages that move c1', async () => {
    const { rounds, dir } = await run('autocei');
    const phases = rounds.map((r) => r.phase);
    expect(phases.slice(0, 3)).toEqual(['sft', 'init', 'ei']);
    expect(phases.at(-1)).toBe('final');
    const stageRows = rounds.filter((r) => r.phase === 'stage');
    expect(stageRows.length).toBeGreaterThan(0);
    expect(rounds[2]!.c1).not.toBeNull();
    // Stage 1 starts at the initial c1; later stages sit one step away from an earlier value.
    expect(stageRows[0]!.c1).toBeCloseTo(rounds[2]!.c1!, 9);
    // The held-out split was never trained on.
    const store = RunStore.open(join(dir, 'run.db'));
    const testPrompts = new Set(store.problems('test').map((p: Problem) => p.prompt));
    store.close();
    const best = rounds.at(-1)!.checkpoint!;
    const model = readSimModel(join(dir, best));
    expect(model.trainedPrompts.some((p) => testPrompts.has(p))).toBe(false);
  });

  it('writes report.json, report.md and SVG plots from the database', async () => {
    const { dir, rounds } = await run('autocei');
    const store = RunStore.open(join(dir, 'run.db'));
    try {
      const report = await writeReport(dir, config('autocei'), store);
      expect(report.rounds).toHaveLength(rounds.length - 1);
      expect(report.test?.byDifficulty.map((m) => m.difficulty)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).selected).toBe(report.selected);
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      expect(md).toContain('## Held-out test');
      expect(md).toContain('| blocks | problems |'); // the domain's own word for its difficulty
      expect(md.split('\n').filter((l) => /^\| (sft|init|ei-r1|s\d+-r\d+) \|/.test(l))).toHaveLength(rounds.length - 1);
      for (const plot of ['rounds', 'c1', 'calibration']) {
        const svg = readFileSync(join(dir, 'plots', `${plot}.svg`), 'utf8');
        expect(svg.startsWith('<svg')).toBe(true);
        expect(svg).toMatch(/<path/);
      }
    } finally {
      store.close();
    }
  });

  it('fixed-c1 keeps c1 at its initial value for every stage', async () => {
    const { rounds } = await run('fixed-c1');
    const c1s = new Set(rounds.filter((r) => r.phase === 'stage').map((r) => r.c1));
    expect(c1s.size).toBe(1);
    expect([...c1s][0]).toBeCloseTo(rounds[2]!.c1!, 9);
  });

  it('copies the initial models of an earlier run that trained the same ones, and only then', async () => {
    // rtuning copies the SFT model of an sft run, and trains only its R-Tuning fine-tuning.
    const sft = await run('sft');
    const fromSft = await run('rtuning', simTrainer(), undefined, { initFrom: [sft.dir] });
    expect(fromSft.trainer.calls.map((c) => c.split('/').at(-1))).toEqual(['init']);
    expect(readFileSync(join(fromSft.dir, 'checkpoints', 'sft', 'model.json'), 'utf8')).toBe(readFileSync(join(sft.dir, 'checkpoints', 'init', 'model.json'), 'utf8'));
    const donor = await run('rtuning');
    const shared = await run('autocei', simTrainer(), undefined, { initFrom: [sft.dir, donor.dir] });
    expect(shared.trainer.calls.some((c) => c.endsWith('init') || c.endsWith('sft'))).toBe(false);
    expect(readFileSync(join(shared.dir, 'checkpoints', 'init', 'model.json'), 'utf8')).toBe(readFileSync(join(donor.dir, 'checkpoints', 'init', 'model.json'), 'utf8'));
    const initOf = (r: typeof donor.rounds) => r.find((x) => x.phase === 'init')!;
    expect(initOf(shared.rounds)).toMatchObject({ f: initOf(donor.rounds).f, trainLoss: initOf(donor.rounds).trainLoss, trainExamples: initOf(donor.rounds).trainExamples });
    // The same rounds as a run that trained its own init.
    const own = await run('autocei');
    expect(shared.rounds.map((r) => [r.phase, r.stage, r.round, r.c1, r.f])).toEqual(own.rounds.map((r) => [r.phase, r.stage, r.round, r.c1, r.f]));
    // sft's model is the rtuning run's SFT model: copied. Another seed draws other problems, and
    // another refusal share makes another R-Tuning model: those are trained.
    const sftCopy = await run('sft', simTrainer(), undefined, { initFrom: [donor.dir] });
    expect(sftCopy.trainer.calls).toEqual([]);
    const otherSeed = await run('autocei', simTrainer(), undefined, { initFrom: [donor.dir], seed: 5 });
    expect(otherSeed.trainer.calls.map((c) => c.split('/').at(-1)).slice(0, 2)).toEqual(['sft', 'init']);
    const otherShare = await run('autocei', simTrainer(), undefined, { initFrom: [donor.dir], init: { refusalFraction: 0.5 } });
    expect(otherShare.trainer.calls.map((c) => c.split('/').at(-1)).slice(0, 1)).toEqual(['init']);
    // An R-Tuning model recorded with another lineage (refusal examples made another way) is
    // not copied either.
    const old = await run('autocei');
    const store = RunStore.open(join(old.dir, 'run.db'));
    store.setMeta('lineage:init', 'refusal examples made another way');
    store.close();
    const notFromOld = await run('autocei', simTrainer(), undefined, { initFrom: [sft.dir, old.dir] });
    expect(notFromOld.trainer.calls.map((c) => c.split('/').at(-1)).slice(0, 1)).toEqual(['init']);
  });

  it('one SFT model is evaluated with the same sampling seed in every method', async () => {
    // pass@k and maj@k on validation sample at temperature > 0: the seed decides them.
    const seedsFor = async (method: Method, initFrom?: string[]) => {
      const seeds: number[] = [];
      const open = simPolicy();
      const { dir } = await run(method, simTrainer(), undefined, {
        evalK: 3, ...(initFrom ? { initFrom } : {}),
        openPolicy: async (ckpt) => {
          const policy = await open(ckpt);
          const sftModel = ckpt.endsWith(method === 'sft' ? 'init' : 'sft'); // sft runs name it init
          return { ...policy, sample: (prompts, o) => (sftModel && o.temperature > 0 && seeds.push(o.seed ?? 0), policy.sample(prompts, o)) };
        },
      });
      return { dir, seeds };
    };
    const sft = await seedsFor('sft');
    const rt = await seedsFor('rtuning', [sft.dir]);
    expect(sft.seeds.length).toBeGreaterThan(0);
    expect(rt.seeds).toEqual(sft.seeds);
  });

  it('autocei copies the EI round and first stage it shares with an earlier fixed-c1 run, and ends as if it ran them', async () => {
    const fixed = await run('fixed-c1');
    const shared = await run('autocei', simTrainer(), undefined, { initFrom: [fixed.dir] });
    const trained = shared.trainer.calls.map((c) => c.split('/').at(-1));
    // The same initial curriculum, so ei-r1 and stage 1 are the same computation: copied.
    expect(trained.some((k) => k === 'sft' || k === 'init' || k === 'ei-r1' || k!.startsWith('s1-'))).toBe(false);
    expect(trained.some((k) => k!.startsWith('s2-'))).toBe(true);
    const own = await run('autocei');
    const view = (rows: typeof own.rounds) => rows.map((r) => [r.phase, r.stage, r.round, r.c1, r.c2, r.f, r.trainExamples, r.trainLoss]);
    expect(view(shared.rounds)).toEqual(view(own.rounds));
    const store = RunStore.open(join(shared.dir, 'run.db'));
    try {
      const s11 = shared.rounds.find((r) => r.phase === 'stage' && r.stage === 1 && r.round === 1)!;
      const ownStore = RunStore.open(join(own.dir, 'run.db'));
      try {
        const ownS11 = own.rounds.find((r) => r.phase === 'stage' && r.stage === 1 && r.round === 1)!;
        expect(store.samples(s11.id, 'train')).toEqual(ownStore.samples(ownS11.id, 'train'));
        expect(store.metrics(s11.id, 'val')).toEqual(ownStore.metrics(ownS11.id, 'val'));
      } finally {
        ownStore.close();
      }
    } finally {
      store.close();
    }
    // The ei method's rounds treat refusals as wrong: another computation, never copied.
    const ei = await run('ei', simTrainer(), undefined, { initFrom: [fixed.dir] });
    expect(ei.trainer.calls.map((c) => c.split('/').at(-1))).toEqual(['ei-r1', 'ei-r2']);
  });

  it('a run that crashed mid-way resumes to the same result as an uninterrupted one', async () => {
    const clean = await run('autocei');
    const dir = mkdtempSync(join(tmpdir(), 'ceiling-run-'));
    await expect(run('autocei', simTrainer({ failAt: 's1-r2' }), dir)).rejects.toThrow('simulated crash');
    const resumed = await run('autocei', simTrainer(), dir);
    const strip = (rs: typeof clean.rounds) => rs.map(({ finishedAt, id, ...r }) => r);
    expect(strip(resumed.rounds)).toEqual(strip(clean.rounds));
    // Finished rounds were not retrained.
    expect(resumed.trainer.calls.some((c) => c.endsWith('init') || c.endsWith('ei-r1'))).toBe(false);
  });
});
