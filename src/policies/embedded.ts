/** The embedded engine as the loop's policy and trainer: the in-process GPT, checkpoints on disk. */
import type { RunConfig } from '../loop/config.js';
import type { Backend } from '../engine/backend.js';
import { createJsBackend } from '../engine/backends/js.js';
import { createWasmBackend } from '../engine/backends/wasm.js';
import { loadCheckpoint, saveCheckpointAsync } from '../engine/checkpoint.js';
import { makeConfig, countParams, type ModelConfig } from '../engine/config.js';
import { createGpt } from '../engine/model.js';
import { sample } from '../engine/sample.js';
import { CharTokenizer } from '../engine/tokenizer.js';
import { readSnapshot, removeSnapshot, trainingKey, writeSnapshot } from '../engine/snapshot.js';
import { trainSft } from '../engine/train.js';
import type { Policy, PolicyFactory, Trainer } from './types.js';
import { getDomain } from '../domains/index.js';
import { REFUSAL } from '../domains/response.js';

export interface EmbeddedEngine {
  /** One line for logs: model size and backend. */
  describe: string;
  trainer: Trainer;
  openPolicy: PolicyFactory;
  close(): Promise<void>;
}

/** A training in progress writes a snapshot this often (a few MB for the models here), next to
 * its checkpoint directory: `<checkpoint>.snapshot.safetensors`, removed once the checkpoint is. */
const SNAPSHOT_EVERY_MS = 120_000;
export const SNAPSHOT_SUFFIX = '.snapshot.safetensors';

/** Prompts decoded per call, so progress can be reported and the event loop breathes. */
const PROMPTS_PER_CHUNK = 32;

export type BackendChoice = 'auto' | 'wasm' | 'js';

/** The wasm backend when its module loads (it is built by `npm run build`), else plain JS;
 * CEILING_BACKEND chooses when no choice is passed. */
export function openBackend(choice: BackendChoice = (process.env.CEILING_BACKEND as BackendChoice) ?? 'auto'): Backend & { reset?(): void; close?(): void } {
  if (choice === 'js') return createJsBackend();
  try {
    return createWasmBackend();
  } catch (err) {
    if (choice === 'wasm') throw err;
    process.stderr.write(`ceiling: wasm backend unavailable (${(err as Error).message}); using the slower JS backend\n`);
    return createJsBackend();
  }
}

/** The tokenizer and model shape a run's models have: characters, plus one token each for the
 * domain's keywords, the answer marker and the refusal. */
export function embeddedModelSpec(config: RunConfig): { tokenizer: CharTokenizer; modelConfig: ModelConfig } {
  const tokenizer = new CharTokenizer(undefined, [...new Set([...(getDomain(config.domain).words ?? []), '#### ', REFUSAL])]);
  const { contextLength, dModel, nLayer, nHead } = config.model;
  return { tokenizer, modelConfig: makeConfig({ vocabSize: tokenizer.vocabSize, contextLength, dModel, nLayer, nHead }) };
}

/** Training and sampling each get their own backend, so that each can free all of its memory
 * when it moves to another model (a bump allocator has no per-buffer free): at most one training
 * model and one sampling model are alive at a time. */
export function createEmbeddedEngine(config: RunConfig, choice?: BackendChoice,
  snapshotEveryMs = SNAPSHOT_EVERY_MS): EmbeddedEngine {
  const trainBackend = openBackend(choice);
  const sampleBackend = openBackend(choice);
  let policyGeneration = 0;
  const { tokenizer, modelConfig } = embeddedModelSpec(config);

  const trainer: Trainer = {
    async train({ examples, base, outDir, seed, epochs, batchSize, lr, onProgress, log }) {
      trainBackend.reset?.();
      const loaded = base === null ? null : loadCheckpoint(base, { backend: trainBackend });
      const model = loaded?.model ?? createGpt(modelConfig, { backend: trainBackend, seed });
      const tok = loaded?.tokenizer ?? tokenizer;
      const steps = Math.max(1, Math.ceil(epochs * Math.ceil(examples.length / batchSize)));
      // A long training snapshots itself, so that a killed run continues it rather than restarts.
      const snapshot = `${outDir}${SNAPSHOT_SUFFIX}`;
      const key = trainingKey({ base, seed, steps, batchSize, lr, model: model.config, examples });
      const { state, reason } = readSnapshot(snapshot, key);
      if (reason) log?.(`${reason}: training from the start`);
      if (state) {
        log?.(`continuing from the snapshot at step ${state.step} of ${steps}`);
        state.losses.forEach((loss, i) => onProgress?.(i + 1, steps, loss));
      }
      const result = trainSft(model, tok, examples, {
        maxSteps: steps, batchSize, learningRate: lr, seed, tooLong: 'skip',
        onProgress: (info) => onProgress?.(info.step, info.totalSteps, info.loss),
        ...(state ? { resume: state } : {}),
        snapshotEveryMs, onSnapshot: (s) => writeSnapshot(snapshot, key, s),
      });
      await saveCheckpointAsync(outDir, model, tok, { metadata: { steps: String(result.steps) } });
      removeSnapshot(snapshot);
      const tail = result.losses.slice(-Math.max(1, Math.ceil(examples.length / batchSize)));
      return { checkpoint: outDir, loss: tail.reduce((a, b) => a + b, 0) / tail.length, steps: result.steps };
    },
  };

  const openPolicy: PolicyFactory = async (dir) => {
    // Opening a policy frees the previous one's memory; using a closed policy is an error, not garbage.
    sampleBackend.reset?.();
    const generation = ++policyGeneration;
    const { model, tokenizer: tok } = loadCheckpoint(dir, { backend: sampleBackend });
    const policy: Policy = {
      name: dir,
      async sample(prompts, { n, temperature, maxTokens, seed, onProgress }) {
        if (generation !== policyGeneration) throw new Error(`policy ${dir} was closed: another checkpoint was opened since`);
        const out: string[][] = [];
        for (let start = 0; start < prompts.length; start += PROMPTS_PER_CHUNK) {
          const chunk = prompts.slice(start, start + PROMPTS_PER_CHUNK);
          const completions = sample(model, tok, chunk, { n, temperature, maxTokens, seed: (seed + start) >>> 0, truncatePrompt: 'left' });
          for (const c of completions) out.push(c.map((x) => x.text));
          onProgress?.(out.length, prompts.length);
          await new Promise((r) => setImmediate(r));
        }
        return out;
      },
    };
    return policy;
  };

  return {
    describe: `embedded GPT ${(countParams(modelConfig) / 1e6).toFixed(2)}M params, ${trainBackend.name} backend (${trainBackend.threads} thread${trainBackend.threads === 1 ? '' : 's'})`,
    trainer,
    openPolicy,
    close: async () => {
      trainBackend.close?.();
      sampleBackend.close?.();
    },
  };
}
