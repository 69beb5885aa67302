/** Run configuration: one schema with documented defaults, three presets, and validation that
 * names the offending field. */
import { z } from 'zod';
import { UserError } from '../cli/errors.js';

export const METHODS = ['sft', 'rtuning', 'ei', 'fixed-c1', 'autocei'] as const;
export type Method = (typeof METHODS)[number];
export const PRESETS = ['demo', 'small', 'full'] as const;
export type Preset = (typeof PRESETS)[number];

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);

export const RunConfigSchema = z.strictObject({
  /** Problem family. */
  domain: z.enum(['blocksworld', 'logic', 'arithmetic', 'countdown']),
  /** sft: gold only; rtuning: gold + truncated refusals; ei: R-Tuning then EI with IDK treated as
   * wrong; fixed-c1: Auto-CEI with c1 frozen at its initial value; autocei: the full method. */
  method: z.enum(METHODS),
  /** Seeds problem generation, splits, initialisation, sampling and shuffling. */
  seed: int(0, 2 ** 32 - 1),
  problems: z.strictObject({
    /** Difficulty grades, spread evenly over every split. */
    difficulties: z.array(int(0)).min(1),
    train: int(1),
    val: int(1),
    test: int(1),
  }),
  /** The embedded GPT. */
  model: z.strictObject({
    dModel: int(8),
    nLayer: int(1, 64),
    nHead: int(1, 64),
    contextLength: int(16, 8192),
  }),
  /** Initialisation: SFT on the gold solutions from scratch (these settings); for every method but
   * `sft`, R-Tuning then fine-tunes it with the `ei` training settings. */
  init: z.strictObject({
    epochs: num(0.01, 10_000),
    batchSize: int(1, 4096),
    lr: num(1e-6, 1),
    /** R-Tuning: share of the training problems the SFT model answers wrongly (greedy) that are
     * taught as refusals (gold chain cut at a random step + the refusal sentence) instead of gold.
     * Ignored by `sft`. */
    refusalFraction: num(0, 1),
    /** R-Tuning: training problems the SFT model is probed on and then fine-tuned with, a seeded
     * random subset (0 = all of them). Ignored by `sft`. */
    probeProblems: int(0),
  }),
  /** Expert-iteration rounds. */
  ei: z.strictObject({
    /** Samples per training problem. */
    n: int(1, 1024),
    temperature: num(0, 10),
    maxTokens: int(1, 8192),
    epochs: num(0.01, 1000),
    batchSize: int(1, 4096),
    lr: num(1e-6, 1),
    /** fromBase: every round fine-tunes the initial model on the new data (the reference);
     * continue: every round fine-tunes the model that produced the samples. */
    mode: z.enum(['fromBase', 'continue']),
    /** Rounds of the `ei` method. */
    rounds: int(1, 100),
    /** Training problems sampled per round, a seeded random subset (0 = all of them). */
    problemsPerRound: int(0),
  }),
  curriculum: z.strictObject({
    /** λ in f = (1 − λ)·precision + λ·(1 − idkRate). */
    lambda: num(0, 1),
    roundsPerStage: int(1, 100),
    /** A stage stops when precision and idkRate both move less than this. */
    tolerance: num(0, 1),
    /** Upper bound on curriculum stages (autocei stops earlier by its own rule; fixed-c1 runs all). */
    maxStages: int(1, 100),
  }),
  eval: z.strictObject({
    /** k for pass@k and maj@k on validation (0 = greedy metrics only). */
    k: int(0, 1024),
    maxTokens: int(1, 8192),
  }),
});

export type RunConfig = z.infer<typeof RunConfigSchema>;

/** demo: a few minutes on two cores. Countdown is the built-in domain the embedded model learns
 * fastest, so the demo shows answering and refusing within its budget; the larger presets default
 * to Blocksworld. Lengths (contextLength, maxTokens) count tokens, not characters. */
const demo: RunConfig = {
  domain: 'countdown',
  method: 'autocei',
  seed: 0,
  problems: { difficulties: [2, 3, 4], train: 3000, val: 150, test: 300 },
  model: { dModel: 128, nLayer: 4, nHead: 4, contextLength: 64 },
  init: { epochs: 24, batchSize: 16, lr: 1e-3, refusalFraction: 1, probeProblems: 0 },
  ei: { n: 8, temperature: 1, maxTokens: 48, epochs: 1, batchSize: 16, lr: 5e-4, mode: 'continue', rounds: 3, problemsPerRound: 400 },
  curriculum: { lambda: 0.2, roundsPerStage: 2, tolerance: 0.003, maxStages: 3 },
  eval: { k: 0, maxTokens: 48 },
};

type Domain = RunConfig['domain'];
type ConfigPatch = { [K in keyof RunConfig]?: RunConfig[K] extends object ? Partial<RunConfig[K]> : RunConfig[K] };

/** Preset adjustments by domain, applied when `--domain` (or the config file) names that domain:
 * problem grades, model size and token lengths that suit it. */
const DOMAIN_PRESETS: Partial<Record<Preset, Partial<Record<Domain, ConfigPatch>>>> = {
  demo: {
    // 3–5 blocks: the SFT model learns 4-block plans within the demo and about two thirds of the
    // 5-block ones, so it has something to answer and something to refuse. 176 tokens hold 95% of
    // annotated 5-block problems (prompt + plan); d 96 learned Blocksworld fastest per minute
    // (README, Status). Many problems for few epochs: 2,000 problems for 16 epochs gave a model
    // that solved 14%.
    blocksworld: {
      problems: { difficulties: [3, 4, 5], train: 6000, val: 150, test: 300 },
      model: { dModel: 96, nLayer: 4, nHead: 4, contextLength: 176 },
      init: { epochs: 10, batchSize: 32, lr: 2e-3 },
      ei: { maxTokens: 144, problemsPerRound: 300 },
      curriculum: { maxStages: 2 },
      eval: { maxTokens: 144 },
    },
  },
  small: {
    // Proof depths 1–4, for an SFT model that solves the shallow proofs and not the deep ones.
    // 5 epochs (7,815 steps, 46 minutes) solved 21.6% / 2.4% / 0% / 0% of held-out depths 1–4
    // with the loss still falling (README, Status), so the SFT runs 12. Those reached 79.4% in one
    // run of three, through a late drop in loss; the other two plateaued near 0.08 and solved
    // 19.4% and 18.6%, never learning which rule concludes a literal (README, Status).
    // 256 tokens hold 99% of depth-4 problems; 160 tokens 99% of their traces.
    logic: {
      problems: { difficulties: [1, 2, 3, 4], train: 50000, val: 250, test: 500 },
      model: { dModel: 96, nLayer: 4, nHead: 4, contextLength: 256 },
      init: { epochs: 12 },
      ei: { maxTokens: 160 },
      eval: { maxTokens: 160 },
    },
  },
};

/** The preset's config for a domain (the preset's own domain when none is given). */
export function presetConfig(preset: Preset, domain?: Domain): RunConfig {
  const base = PRESET_CONFIGS[preset];
  const patch = DOMAIN_PRESETS[preset]?.[domain ?? base.domain];
  return merge({ ...base, domain: domain ?? base.domain }, patch);
}

export const PRESET_CONFIGS: Record<Preset, RunConfig> = {
  demo,
  small: {
    ...demo,
    domain: 'blocksworld',
    // More problems for fewer epochs: 3,317 problems × 20 epochs (2,700 steps) solved 5% of 6-block
    // held-out problems, 9,727 × 10 (3,040 steps) 24%, and these 50,000 × 2.5 (3,908 steps) 56%
    // (README, Status). 3 and 4 blocks have ~4,800 distinct problems between them, so most of the
    // 50,000 have 5–7 blocks.
    problems: { difficulties: [3, 4, 5, 6, 7], train: 50000, val: 250, test: 500 },
    // d 96 learned 3–4 block plans faster per minute than d 128 (README, Status); 256 tokens fit
    // 91% of the annotated 7-block plans (p95 275 tokens; longer ones are left out of training).
    model: { dModel: 96, nLayer: 4, nHead: 4, contextLength: 256 },
    // 2.5 epochs of 50,000 is ~3,900 steps; R-Tuning probes and fine-tunes on 10,000 of them.
    init: { ...demo.init, epochs: 2.5, batchSize: 32, lr: 2e-3, probeProblems: 10000 },
    // The EI rounds (and R-Tuning's fine-tuning, which uses their settings) at no more than the
    // SFT's final learning rate (init.lr / 10): at 5e-4 one plain EI round lost 9 points of logic
    // validation accuracy, at 1e-4 it kept them and its held-out accuracy rose above the SFT's
    // (README, Status).
    ei: { ...demo.ei, n: 16, maxTokens: 224, problemsPerRound: 600, mode: 'fromBase', lr: 1e-4 },
    curriculum: { ...demo.curriculum, roundsPerStage: 3, maxStages: 4 },
    eval: { k: 4, maxTokens: 224 },
  },
  full: {
    ...demo,
    domain: 'blocksworld',
    problems: { difficulties: [2, 3, 4, 5, 6, 7, 8], train: 20000, val: 500, test: 1000 },
    // 8-block annotated plans: p95 328 tokens (84% fit; longer ones are left out of training).
    model: { dModel: 192, nLayer: 6, nHead: 6, contextLength: 320 },
    init: { ...demo.init, epochs: 30 },
    // EI at the SFT's final learning rate, as in small (not measured at this size).
    ei: { ...demo.ei, n: 16, maxTokens: 288, mode: 'fromBase', problemsPerRound: 2000, lr: 1e-4 },
    curriculum: { ...demo.curriculum, roundsPerStage: 3, maxStages: 6 },
    eval: { k: 8, maxTokens: 288 },
  },
};

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Deep-merges `override` onto `base` (objects merge, everything else replaces). */
export function merge<T>(baseValue: T, override: unknown): T {
  if (!isObject(baseValue) || !isObject(override)) return (override === undefined ? baseValue : override) as T;
  const out: Record<string, unknown> = { ...baseValue };
  for (const [k, v] of Object.entries(override)) out[k] = merge(out[k], v);
  return out as T;
}

/** Validates a complete config; the error names the first bad field, e.g. `ei.n: …`. */
export function validateConfig(value: unknown, source = 'config'): RunConfig {
  const result = RunConfigSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new UserError(`${source}: ${where}: ${issue.message}`);
  }
  const c = result.data;
  if (c.model.dModel % c.model.nHead !== 0) {
    throw new UserError(`${source}: model.dModel (${c.model.dModel}) must be divisible by model.nHead (${c.model.nHead})`);
  }
  return c;
}

/** A preset, overridden by a partial config (from a file) and then by flags. The preset is taken
 * for the last domain the overrides name, so `--domain blocksworld --preset demo` gets the
 * Blocksworld-sized demo. */
export function resolveConfig(preset: Preset, ...overrides: unknown[]): RunConfig {
  const named = overrides.map((o) => (isObject(o) ? o.domain : undefined)).filter((d) => d !== undefined);
  const domain = named.at(-1);
  const known = RunConfigSchema.shape.domain.safeParse(domain);
  let config: unknown = presetConfig(preset, known.success ? known.data : undefined);
  for (const o of overrides) config = merge(config, o);
  return validateConfig(config);
}
